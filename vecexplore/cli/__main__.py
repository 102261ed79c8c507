"""``python -m vecexplore.cli``: the same as the ``vecexplore`` command."""

import sys

from vecexplore.cli import main

sys.exit(main())
