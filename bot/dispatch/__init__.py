"""The application service: conversations, case actions and approvals over stored state."""

from bot.dispatch.service import BotService, PendingSend

__all__ = ["BotService", "PendingSend"]
