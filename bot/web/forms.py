"""The workspace's forms: the CSRF check, how much a form may hold, and what the page says
after an action.

The boxes take up to FIELD_LIMITS characters (the pages' maxlength). A browser sends each
character as up to 4 bytes of UTF-8, each byte as %XX, so the form's byte limit follows
from those: 2,000 characters of Chinese fit, as 2,000 of English do. Text over a box's
limit is refused as too long, with the page shown again holding the text, so nothing
typed is lost. After an action the page says what happened from a fixed set of messages
(DONE), named in the address; the address never carries text of its own to show.
"""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from bot.domain.cases import CaseStatus
from bot.features.cases import cards, reopening
from bot.kernel.core import Kernel
from bot.storage import repository as repo
from bot.storage.tables import Case
from bot.web.casefile import build_case_file
from bot.web.common import ACTIONS, Visitor, page, school_service, show_message

FIELD_LIMITS = {"text": 2000, "message": 2000}
HOLD_LIMITS = {"text": 1000}  # a hold's reason is kept to 1,000 (bot.records.legal_hold)
MAX_FORM_BYTES = sum(FIELD_LIMITS.values()) * 4 * 3 + 4096  # + the token and field names
FIELD_WORDS = {
    ("note", "text"): "note",
    ("close", "text"): "outcome",
    ("close", "message"): "message to the reporter",
    ("reopen", "text"): "reason for reopening",
    ("hold", "text"): "reason for the hold",
}
DONE = {
    "acknowledged": "You've acknowledged {ref}.",
    "acknowledge-unchanged": "{ref} was already acknowledged, so nothing has changed.",
    "assigned": "{ref} is assigned to you.",
    "assign-unchanged": "{ref} wasn't assigned to you: it may be assigned already or closed.",
    "noted": "Note added to {ref}.",
    "note-unchanged": "The note wasn't added: {ref} may be closed. What it holds now is below.",
    "closed": "{ref} is closed.",
    "close-unchanged": "{ref} wasn't closed: it may be closed already. See its status below.",
    "reopened": "{ref} is open again. The reporter hasn't been told.",
    "reopen-unchanged": "{ref} wasn't reopened: it may be open already. See its status below.",
    "held": "{ref} is on legal hold: it will not be disposed of until the hold is lifted.",
    "released": "The legal hold on {ref} is lifted.",
    "hold-unchanged": "The legal hold on {ref} hasn't changed. What it says now is below.",
    "release-unchanged": "The legal hold on {ref} hasn't changed. What it says now is below.",
}
# The chronology's action for each form, and the DONE key when it went through.
RECORDED = {
    "acknowledge": ("case.acknowledged", "acknowledged"),
    "assign": ("case.assigned", "assigned"),
    "note": ("case.note", "noted"),
    "close": ("case.closed", "closed"),
    "reopen": ("case.reopened", "reopened"),
    "hold": ("case.hold", "held"),
    "release": ("case.hold_released", "released"),
}


class FormTooLarge(Exception):
    """A form with more than its boxes take: `fields` as posted (empty when it was too
    large even to read), `field` the box that is over."""

    def __init__(self, fields: dict[str, str], field: str | None = None, limit: int = 0):
        super().__init__(field)
        self.fields = fields
        self.field = field
        self.limit = limit


async def read_form(
    request: web.Request, visitor: Visitor, limits: dict[str, int] = FIELD_LIMITS
) -> dict[str, str] | None:
    """The posted form, or None when its CSRF token is missing or wrong; FormTooLarge when
    a box holds more than it takes (only once the token is right: the text is shown again)."""
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        raise FormTooLarge({})
    try:
        data = await request.post()
    except web.HTTPRequestEntityTooLarge as exc:
        raise FormTooLarge({}) from exc
    except (ValueError, web.HTTPException):
        return None
    token = data.get("csrf")
    if not isinstance(token, str) or not hmac.compare_digest(
        token.encode("utf-8", "surrogatepass"), visitor.user.csrf.encode()
    ):
        return None
    # A browser sends a box's line breaks as CRLF, while its maxlength counts them once.
    fields = {k: v.replace("\r\n", "\n") for k, v in data.items() if isinstance(v, str)}
    for name, limit in limits.items():
        if len(fields.get(name, "")) > limit:
            raise FormTooLarge(fields, name, limit)
    return fields


def too_large(request: web.Request) -> web.Response:
    """For a form too large to read at all (no page of ours sends one)."""
    return show_message(
        request,
        413,
        "That was too long to send",
        "Nothing was changed. Go back, shorten what you wrote (each box takes up to "
        f"{FIELD_LIMITS['text']:,} characters) and send it again.",
    )


def count_of(kernel: Kernel, ref: str, action: str, actor_key: str) -> int:
    """How many times this person has done this to the case (before and after a form)."""
    with kernel.session() as session:
        events = repo.timeline(session, ref)
        return sum(1 for e in events if e.action == action and e.actor == actor_key)


def done_key(form: str, before: int, after: int) -> str:
    """The DONE message for a form: whether its action reached the chronology."""
    return RECORDED[form][1] if after > before else f"{form}-unchanged"


def done_message(key: str, ref: str) -> str:
    """The confirmation to show for a key in the address; nothing for any other text."""
    text = DONE.get(key[:40])
    return text.format(ref=ref) if text else ""


def case_context(kernel: Kernel, visitor: Visitor, case: Case, record: Any) -> dict[str, Any]:
    """What case.html needs besides the message and the drafts."""
    return {
        "visitor": visitor,
        "case": record,
        "buttons": {b.action for b in reopening.team_buttons(kernel, case)},
        "closed": case.status == CaseStatus.CLOSED.value,
        "actions": ACTIONS,
        "close_hint": cards.CLOSE_HINT,
        "reopen_hint": cards.REOPEN_HINT,
        "limits": FIELD_LIMITS,
        "hold_limit": HOLD_LIMITS["text"],
        "done": "",
        "problem": "",
        "draft": {},
    }


async def form_again(
    request: web.Request, visitor: Visitor, case: Case, error: FormTooLarge
) -> web.Response:
    """The case page again, saying which box is over and holding what was typed (413)."""
    form = request.match_info.get("action") or request.match_info.get("verb") or ""
    if not error.fields or error.field is None:
        return too_large(request)
    kernel = school_service(request).kernel
    record = await kernel.work.run(_case_file, kernel, case.ref)
    words = FIELD_WORDS.get((form, error.field), "text")
    length, limit = len(error.fields[error.field]), error.limit
    context = case_context(kernel, visitor, case, record)
    context["problem"] = (
        f"Your {words} is {length:,} characters long; the box takes up to {limit:,}. Nothing "
        "was saved: it is below, to shorten and send again."
    )
    context["draft"] = {form: error.fields}
    return page(request, "case.html", context, status=413)


def _case_file(kernel: Kernel, ref: str) -> Any:
    with kernel.session() as session:
        fresh = repo.case_by_ref(session, ref)
        assert fresh is not None
        return build_case_file(session, kernel, fresh)
