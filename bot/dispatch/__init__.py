"""The application service: conversations, case actions and approvals over stored state."""

from bot.dispatch.service import BotService, PendingSend
from bot.dispatch.trust import Trust, UnknownSchool

__all__ = ["BotService", "PendingSend", "Trust", "UnknownSchool"]
