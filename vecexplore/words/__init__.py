"""Word arithmetic: analogies, free-form expressions, directions, and their evaluation; :mod:`.report` holds the
workflows."""
