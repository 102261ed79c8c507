"""Which model for my texts? Tasks built from the user's corpus (:mod:`.tasks`), per-item scores (:mod:`.metrics`),
a paired bootstrap (:mod:`.confidence`) and the report card ranking the candidate models (:mod:`.report`)."""
