"""``python -m cli``: the same as the ``bel`` command."""

from cli import main

raise SystemExit(main())
