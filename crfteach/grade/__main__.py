"""``python -m crfteach.grade NOTEBOOK.ipynb``: see ``crfteach.grade``."""

import os
import sys

from . import main

# no window for a learner's plots when run from a terminal (set here, not in
# main(), so that calling main() in a process leaves its environment alone)
os.environ.setdefault("MPLBACKEND", "Agg")
sys.exit(main())
