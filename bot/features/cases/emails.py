"""The escalation email's words: what CPOMS and MyConcern send too, a reference, the kind,
urgent or not, the time and a way in, and nothing else. An email leaves the school's
systems and may be read on a shared screen, so it never holds a name, an answer or
evidence; the email platform (bot/platforms/email) adds the sign-in link when it sends."""

from __future__ import annotations

from bot.domain.messages import Button, Message
from bot.features.cases.cards import waited_words
from bot.kernel.core import Kernel
from bot.kernel.outbox import OPEN_WEB
from bot.storage.tables import Case

# The only fields an escalation email carries; tests hold every email to them.
FIELDS = ("Reference", "Kind", "Urgent", "Reported")


def escalation_email(kernel: Kernel, case: Case, kind: str, waited: int, *, opens: str) -> Message:
    """`opens`: the case's reference (its page) or ALL_CASES (the list), where the
    email's one-time link lands."""
    urgent = "URGENT" if case.urgent else ""
    reported = case.created_at.astimezone(kernel.clock.zone).strftime("%a %-d %b %Y, %H:%M")
    to_head = opens != case.ref
    ask = (
        "Please make sure the safeguarding team has seen it."
        if to_head
        else "Please acknowledge it: open it from the link below, or in chat."
    )
    return Message(
        title=f"{urgent or 'Safeguarding'}{' safeguarding' if urgent else ''} alert "
        f"{case.ref} not yet acknowledged",
        text=(
            f"A safeguarding alert at {kernel.pack.school.name} has not been acknowledged "
            f"for {waited_words(waited)}. {ask} Acknowledging it stops these emails.\n"
            "No details are sent by email: they are only in schoolbot."
        ),
        fields=(
            ("Reference", case.ref),
            ("Kind", kind),
            ("Urgent", "Yes" if case.urgent else "No"),
            ("Reported", reported),
        ),
        buttons=(Button(OPEN_WEB, "Open schoolbot", opens),),
        urgent=case.urgent,
    )
