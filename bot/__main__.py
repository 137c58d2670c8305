"""``python -m bot`` runs the ``unionbot`` command."""

from bot.cli import main

main()
