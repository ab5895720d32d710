"""The `schoolbot` command line (entry point `bot.cli:main`); one module per group."""

from bot.cli.main import main

__all__ = ["main"]
