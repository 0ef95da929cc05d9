"""``python -m plastix`` runs the command line (the same as the ``plastix`` command)."""

from .cli import main

main()
