"""``python -m scopax.port PATH...``: see :mod:`scopax.port`."""

from scopax.port._cli import main

raise SystemExit(main())
