"""Conversation 3: a request for a new official account (AC-* clauses).

The questions are the pack's `accounts.required_fields` in a fixed order (AC-CASE, plus the
Dukeries form AC-FORM-DA), then training (AC-TRAINED, once per named person), then a
summary to confirm. Submitting opens an AC case with the pack's approval stages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from bot.dialogs.common import join_words, social_network_label, social_network_step
from bot.dialogs.declarations import Context, Dialog, Step, StepKind
from bot.dialogs.outcome import Outcome
from bot.domain import retention_classes
from bot.domain.cases import CaseKind
from bot.domain.messages import Choice, Guidance

KIND = CaseKind(
    "AC",
    "New official account request",
    retention=retention_classes.ACCOUNT,
    dialog="account_request",
    standard_fields=("name", "platform", "audience", "run_by"),
    full_fields=("aim",),
    always_standard=True,
)

VISIBILITY = (Choice("open", "Open (public)"), Choice("closed", "Private or closed"))
HOSTS = (Choice("school", "The school"),)
# "Not sure" is an answer too: the approver sees it, with the minimum-age warning.
OLD_ENOUGH = (Choice("yes", "Yes"), Choice("no", "No"), Choice("unsure", "Not sure"))

# field -> (question, kind, short label for the summary)
FIELDS: dict[str, tuple[str, StepKind, str]] = {
    "name": ("What will the account be called? For example: PE Department News.", "text", "Name"),
    "aim": ("What is the aim of the account? What do you want it to achieve?", "text", "Aim"),
    "audience": (
        "Who is it for? For example parents, Year 10 pupils, the public.",
        "text",
        "Audience",
    ),
    "promotion": ("How will you promote it?", "text", "Promotion"),
    "run_by": (
        "Who will run it? Name at least {min} members of staff, separated by commas.",
        "people",
        "Run by",
    ),
    "visibility": (
        "Will the account be open to the public, or private?",
        "choice",
        "Open or closed",
    ),
    "content": ("Briefly, what will you post?", "text", "Content"),
    "department": ("Which department or team is it for?", "text", "Department"),
    "author": ("Who is the author of the account (the lead member of staff)?", "text", "Author"),
    "line_manager": ("Who is the author's line manager?", "text", "Line manager"),
    "contributors": (
        "Who will contribute? For example staff, pupils, parents, the public.",
        "text",
        "Contributors",
    ),
    "administrators": (
        "Who will be the administrators? Name at least two, separated by commas.",
        "people",
        "Administrators",
    ),
    "moderators": (
        "Who will moderate comments? Name at least two, separated by commas.",
        "people",
        "Moderators",
    ),
    "vetting": ("Who will vet external contributors?", "text", "Vets contributors"),
    "host": (
        "Who will host it? Choose the school, or type the name of the third party.",
        "choice",
        "Host",
    ),
    "go_live": (
        "When would you like it to go live?",
        "any_date",
        "Go-live date",
    ),
    "closure_date": ("When should it close? A date, or say no end date.", "text", "Closure"),
    "contributor_recruitment": (
        "How will you find external contributors?",
        "text",
        "Finding contributors",
    ),
    "parental_consent": (
        "If contributors include children or adults with learning "
        "disabilities, how will you get consent from parents or carers?",
        "text",
        "Consent",
    ),
    "security": (
        "What will stop unsuitable people contributing or following the account?",
        "text",
        "Security",
    ),
}
ORDER = (
    "name", "platform", "department", "author", "line_manager", "aim", "audience", "promotion",
    "run_by", "visibility", "content", "contributors", "administrators", "moderators", "vetting",
    "host", "go_live", "closure_date", "contributor_recruitment", "parental_consent", "security",
)  # fmt: skip


def _required(field: str) -> Callable[[Context], bool]:
    return lambda ctx: field in ctx.pack.accounts.required_fields


# Groups of people, not named members of staff.
_GROUP = re.compile(
    r"(?:the |all |any |our )?(?:pupils?|students?|children|kids|parents?|carers?|famil(?:y|ies)|"
    r"staff|teachers?|everyone|everybody|anyone|public|governors?|department|team|"
    r"year \d+|year \d+ pupils|office|admin|nobody|no one|none|tbc|not sure)"
)


def _enough_people(
    minimum: Callable[[Context], int], clause: str
) -> Callable[[Any, Context], str | None]:
    def check(people: list[str], ctx: Context) -> str | None:
        need = minimum(ctx)
        groups = [p for p in people if _GROUP.fullmatch(p.lower())]
        if groups:  # "Pupils and parents" names nobody who can be trained and held to account
            return (
                f"{join_words(groups)} {'is' if len(groups) == 1 else 'are'} not a member of "
                f"staff. Please name at least {need} members of staff, separated by commas, "
                "for example Ms Patel, Mr Jones."
            )
        if len(people) >= need:
            return None
        gave = "nobody" if not people else f"{len(people)}: {', '.join(people)}"
        rule = ctx.pack.cited(f"The policy needs at least {need} named people.", clause)
        return f"{rule} You gave {gave}. Please list at least {need}, separated by commas."

    return check


def _future_or_today(value: str, ctx: Context) -> str | None:
    return (
        "That date has passed. Please give today's date or a later one."
        if value < ctx.today.isoformat()
        else None
    )


def _question(field: str) -> Step:
    if field == "platform":
        return replace(
            social_network_step("Which platform will it be on?"), ask_if=_required(field)
        )
    text, kind, _ = FIELDS[field]
    choices: tuple[Choice, ...] = ()
    check = None
    other = False
    prompt: str | Callable[[Context], str] = text
    if field == "run_by":
        prompt = lambda ctx: text.format(min=ctx.pack.accounts.min_named_staff)  # noqa: E731
        check = _enough_people(lambda ctx: ctx.pack.accounts.min_named_staff, "AC-CASE")
    elif field in ("administrators", "moderators"):
        check = _enough_people(lambda ctx: 2, "AC-FORM-DA")
    elif field == "visibility":
        choices = VISIBILITY
    elif field == "host":
        choices, other = HOSTS, True
    elif field == "go_live":
        check = _future_or_today
        prompt = lambda ctx: (  # noqa: E731
            f"When would you like it to go live? For example "
            f"{ctx.today + timedelta(days=14):%d/%m/%Y}."
        )
    return Step(
        field,
        prompt,
        kind,
        choices=choices,
        other_allowed=other,
        check=check,
        ask_if=_required(field),
        max_chars=1000,
    )


def _trained_people(ctx: Context) -> list[str]:
    if not ctx.pack.accounts.ask_trained:
        return []
    people = list(ctx.answers.get("run_by") or [])
    for extra in ("administrators", "moderators"):
        people += [p for p in ctx.answers.get(extra) or [] if p not in people]
    return people


def _show(field: str, value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(value)
    if field == "platform":
        return social_network_label(value)
    if field == "visibility":
        return dict((c.value, c.label) for c in VISIBILITY).get(value, value)
    if field == "host":
        return "The school" if value == "school" else value
    if field == "go_live":  # "1 March 2027", not 2027-03-01
        return date.fromisoformat(value).strftime("%-d %B %Y")
    return str(value)


def _summary_prompt(ctx: Context) -> str:
    lines = ["Here's your request:"]
    for field in ORDER:
        if field in ctx.answers:
            label = "Platform" if field == "platform" else FIELDS[field][2]
            lines.append(f"• {label}: {_show(field, ctx.answers[field])}")
    lines.append("\nShall I send it for approval? Say back to change an answer.")
    return "\n".join(lines)


def _confirmed(value: bool, ctx: Context) -> str | None:  # noqa: FBT001 - a Step check's signature
    return None if value else "No problem. Say back to change an answer, or cancel to stop."


def _untrained(ctx: Context) -> list[str]:
    people = _trained_people(ctx)
    answers = ctx.answers.get("trained") or {}
    return [p for i, p in enumerate(people) if answers.get(str(i)) is False]


def _finish(ctx: Context) -> Outcome:
    a = ctx.answers
    pack = ctx.pack
    stages = tuple(pack.accounts.stages)
    flags: list[str] = []
    guidance: list[Guidance] = []
    untrained = _untrained(ctx)
    if untrained:
        flags.append("training_needed")
        guidance.append(
            pack.guidance(
                "AC-TRAINED",
                (
                    f"{join_words(untrained)} must read the policy and be trained before running the "
                    "account. The approver will see this."
                ),
            )
        )
    if a.get("minimum_age") in (False, "no", "unsure"):  # False: saved before "not sure"
        flags.append("minimum_age_warning")
        guidance.append(
            pack.guidance(
                "AC-AGE",
                (
                    "The account must not break the platform's minimum age rules. "
                    "The approver will see your answer."
                ),
            )
        )
    chain = ", then ".join(f"the {pack.role_label(s)}" for s in stages)
    next_step = f"It now goes to {chain} for approval."
    clause = "AC-APPROVE-CHAIN" if len(stages) > 1 else "AC-APPROVE-ONE"
    closing = "You'll get a message here when it's decided."
    if pack.has(clause):
        guidance.append(pack.guidance(clause, next_step))
    else:
        # The policy sets no approval route (the pack's stages are the school's choice), so
        # this is what happens next, not advice the policy gives.
        closing = f"{next_step} {closing}"
    return Outcome(
        kind=KIND,
        open_case=True,
        team="slt",
        urgent=False,
        guidance=guidance,
        summary={
            "name": a["name"],
            "platform": social_network_label(a.get("platform", "")) if a.get("platform") else "",
            "audience": a.get("audience", ""),
            "aim": a.get("aim", ""),
            "run_by": ", ".join(a.get("run_by") or []),
        },
        details={k: v for k, v in a.items() if k != "confirm"},
        flags=flags,
        approval_stages=stages,
        closing=closing,
    )


ACCOUNT_REQUEST = Dialog(
    name="account_request",
    answer_labels={
        **{key: label for key, (_, _, label) in FIELDS.items()},
        "platform": "Platform",
        "minimum_age": "Audience old enough for the platform",
    },
    title="New official account",
    intro=lambda ctx: ctx.pack.cited(
        "Great, let's get your account approved. I'll ask for the business case, then send it "
        "for approval.",
        "AC-CASE",
    ),
    steps=(
        *(_question(f) for f in ORDER),
        Step(
            "minimum_age",
            "Is everyone in the audience old enough for the platform? Most need users to be 13 "
            "or over.",
            "choice",
            choices=OLD_ENOUGH,
            ask_if=lambda ctx: ctx.pack.accounts.ask_minimum_age,
        ),
        Step(
            "trained",
            "Has {item} read the social media policy and had training?",
            "yesno",
            repeat_over=_trained_people,
        ),
        Step("confirm", _summary_prompt, "yesno", check=_confirmed),
    ),
    finish=_finish,
)
