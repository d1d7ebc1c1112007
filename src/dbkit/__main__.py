"""``python -m dbkit``: the same as the ``dbkit`` command."""

from dbkit.cli import main

main()
