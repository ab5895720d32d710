"""`python -m bot.cli`: the same as the `schoolbot` command."""

from bot.cli.main import main

main()
