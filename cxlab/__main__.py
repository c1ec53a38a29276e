"""``python -m cxlab`` runs the command line."""

import sys

from cxlab.cli import main

sys.exit(main())
