"""The official-account register and logged comments, as whole units of work: what the
CLI, the comment webhook and the scheduler's reports call."""

from __future__ import annotations

from typing import Any

from bot.features.comments import queries as comments_queries
from bot.features.comments.moderation import Moderation
from bot.features.comments.rules import CommentIn
from bot.kernel.core import Kernel
from bot.storage.tables import Comment, OfficialAccount


class CommentDesk:
    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self.moderation = Moderation(kernel)

    def log_comment(
        self, data: CommentIn, source: str, by: str, platform: str | None = None
    ) -> tuple[Comment, bool]:
        """Raises RegisterError for an unknown account; (comment, created) otherwise."""
        with self.kernel.session() as session:
            comment, created = self.moderation.log_comment(session, data, source, by, platform)
            session.commit()
            return comment, created

    def register_add(self, by: str, **fields: Any) -> OfficialAccount:
        with self.kernel.session() as session:
            account = self.moderation.add_account(session, by=by, **fields)
            session.commit()
            return account

    def register_change(self, account_id: int, by: str, **changes: Any) -> OfficialAccount:
        with self.kernel.session() as session:
            account = self.moderation.change(session, account_id, by, **changes)
            session.commit()
            return account

    def register(self) -> list[OfficialAccount]:
        with self.kernel.session() as session:
            return comments_queries.all_accounts(session)

    def register_csv(self) -> str:
        with self.kernel.session() as session:
            return self.moderation.export_csv(session)

    def awaiting_comments(self) -> list[tuple[Comment, str]]:
        with self.kernel.session() as session:
            accounts = {a.id: a.name for a in comments_queries.all_accounts(session)}
            return [
                (c, accounts.get(c.account_id, "?"))
                for c in comments_queries.awaiting_comments(session)
            ]
