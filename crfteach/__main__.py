"""``python -m crfteach``: see :mod:`crfteach.cli`."""

from .cli import main

raise SystemExit(main())
