"""Cases: the record a finished report opens, its alert to the owning team, the team's
buttons (acknowledge, assign, note, close), its reminders, and "my cases"."""

from bot.features.cases import actions, commands, reminders, retention_commands
from bot.kernel.registry import Registry


def register(registry: Registry) -> None:
    actions.register(registry)
    commands.register(registry)
    reminders.register(registry)
    retention_commands.register(registry)
