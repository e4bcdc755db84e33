"""``python -m crfteach.grade NOTEBOOK.ipynb``: see ``crfteach.grade``."""

import sys

from . import main

sys.exit(main())
