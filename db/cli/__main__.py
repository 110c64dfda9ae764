"""``python -m db.cli``: the same as the ``bel`` command."""

from db.cli import main

raise SystemExit(main())
