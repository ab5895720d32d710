"""Friend and follow requests on personal accounts: the FR-* clauses as one pure function.

The decision says what to tell the member of staff and whether the DSL must hear about it.
Rules that depend on the school (who counts, for how long) come from the policy pack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from bot.domain import retention_classes as classes
from bot.domain.cases import about_a_child
from bot.domain.messages import Guidance
from bot.domain.policy import PolicyPack

Sender = Literal["current_pupil", "former_pupil", "parent", "young_person"]
Verdict = Literal["decline", "allowed_with_care", "use_judgement"]


@dataclass(frozen=True)
class FriendRequestFacts:
    sender: Sender
    family: bool
    platform: str
    already_accepted: bool
    concerning: bool
    left_on: date | None = None  # former pupils: when they left
    age: int | None = None  # former pupils: age now, if known
    born_on: date | None = None  # former pupils: date of birth, if known


@dataclass(frozen=True)
class FriendRequestDecision:
    verdict: Verdict
    guidance: list[Guidance]
    open_case: bool
    urgent: bool
    clauses: list[str] = field(default_factory=list)
    contact_allowed_from: date | None = None


def add_years(day: date, years: int) -> date:
    """Same calendar day `years` later; 29 February moves on to 1 March in a common year.

    1 March is the later (safer) date and matches `age_on`, which counts someone born on
    29 February as not yet a year older on 28 February.
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def eighteenth_birthday(facts: FriendRequestFacts, today: date, age: int = 18) -> date | None:
    """The latest date they can reach `age`: from a birth date, or conservatively from an age."""
    if facts.born_on:
        return add_years(facts.born_on, age)
    if facts.age is not None:
        # Someone aged N today may have turned N today, so they reach `age` at most
        # (age - N) years from now. Using the latest possible date errs on the safe side.
        return add_years(today, max(age - facts.age, 0))
    return None


def age_on(facts: FriendRequestFacts, today: date) -> int | None:
    if facts.born_on:
        years = today.year - facts.born_on.year
        if (today.month, today.day) < (facts.born_on.month, facts.born_on.day):
            years -= 1
        return years
    return facts.age


def _restriction(
    pack: PolicyPack, facts: FriendRequestFacts, today: date
) -> tuple[bool, str, date | None]:
    """Whether this sender is off-limits, the clause that says so, and any end date."""
    rel = pack.relationships
    if facts.sender == "current_pupil":
        return True, "FR-DECLINE", None
    if facts.sender == "young_person":
        if rel.any_school and pack.has("FR-ANY-SCHOOL"):
            return True, "FR-ANY-SCHOOL", None
        return rel.other_young_people == "decline", "FR-DECLINE", None
    if facts.sender == "parent":
        if rel.parents == "forbidden":
            return True, "FR-PARENT", None
        soft = "FR-PARENT-CONFLICT" if rel.parents == "conflict_of_interest" else "FR-PARENT"
        return False, soft, None
    rule = rel.former_pupils
    age = age_on(facts, today)
    if rule.rule == "never":
        return True, "FR-DECLINE", None
    if rule.rule == "until_age":
        assert rule.age is not None
        until = eighteenth_birthday(facts, today, rule.age)
        restricted = age is None or age < rule.age
        return restricted, "FR-EXPUPIL-U18", until if restricted else None
    if rule.rule == "years_or_age":
        assert rule.age is not None and rule.years is not None
        ends = [d for d in (eighteenth_birthday(facts, today, rule.age),) if d]
        if facts.left_on:
            ends.append(add_years(facts.left_on, rule.years))
        if not facts.left_on or (age is None and facts.born_on is None):
            # Without both dates we cannot show the window has passed, so stay cautious.
            # A known lower bound is only worth giving if it is still in the future.
            later = [d for d in ends if d > today]
            return True, "FR-EXPUPIL-KJS", max(later) if later else None
        until = max(ends)
        return today < until, "FR-EXPUPIL-KJS", until if today < until else None
    # judgement: a former pupil still under 18 is almost certainly a pupil somewhere, and
    # with the age unknown we assume they may be, as the other rules do.
    if rel.any_school and (age is None or age < 18) and pack.has("FR-ANY-SCHOOL"):
        return True, "FR-ANY-SCHOOL", None
    return False, "FR-DECLINE", None


def _why_no_rule(pack: PolicyPack, facts: FriendRequestFacts, clause: str, today: date) -> str:
    """Which rule was checked and why it does not apply, or that the policy has none.

    "No fixed rule" is only true when there is none; a former pupil who is past the
    school's rule is told which rule that was and that it no longer applies.
    """
    rule = pack.relationships.former_pupils
    if facts.sender == "former_pupil" and clause == "FR-EXPUPIL-U18":
        return (
            f"The policy's rule for former pupils is no contact until they are {rule.age}. "
            f"They are {rule.age} or over now, so that rule no longer applies."
        )
    if facts.sender == "former_pupil" and clause == "FR-EXPUPIL-KJS":
        return (
            f"The policy's rule for former pupils is no contact for {rule.years} years after "
            f"they left or until they are {rule.age}, whichever is longer. That time has "
            "passed, so the rule no longer applies."
        )
    age = age_on(facts, today)
    if facts.sender == "former_pupil" and pack.relationships.any_school and age and age >= 18:
        return (
            "The policy's rule on pupils at this or any other school no longer applies, "
            "because they are 18 or over now. It has no fixed rule for former pupils who "
            "are adults."
        )
    who = {
        "former_pupil": "former pupils",
        "parent": "parents and carers",
        "young_person": "young people who are not pupils here",
    }.get(facts.sender, "this request")
    return f"The policy has no fixed rule for {who}."


def _is_child(facts: FriendRequestFacts, today: date) -> bool:
    if facts.sender in ("current_pupil", "young_person"):
        return True
    if facts.sender == "former_pupil":
        age = age_on(facts, today)
        return age is None or age < 18
    return False


def decide_friend_request(
    pack: PolicyPack, facts: FriendRequestFacts, today: date
) -> FriendRequestDecision:
    rel = pack.relationships
    dsl = pack.role_label(pack.lead_dsl_role)
    guidance: list[Guidance] = []
    tell_dsl = rel.tell_dsl_about_pupil_requests and pack.has("FR-DSL")

    if facts.family and rel.family_exception and pack.has("FR-FAMILY"):
        guidance.append(
            pack.guidance(
                "FR-FAMILY",
                "Family members are an exception to the rule, so you may accept. Keep what you "
                "share suitable for someone in your role, and think carefully about close "
                "family links with pupils.",
            )
        )
        if pack.has("FR-ASK-IT"):
            guidance.append(
                pack.guidance(
                    "FR-ASK-IT", f"If you're unsure or concerned, talk to {rel.unsure_contact}."
                )
            )
        return _finish(
            pack, facts, "allowed_with_care", guidance, routine_case=False, until=None, dsl=dsl
        )

    restricted, clause, until = _restriction(pack, facts, today)
    if restricted:
        guidance.append(_decline(pack, facts, clause))
        if until and clause in ("FR-EXPUPIL-KJS", "FR-EXPUPIL-U18"):
            guidance.append(
                pack.guidance(
                    clause,
                    f"The policy allows contact from {until:%-d %B %Y} at the earliest.",
                )
            )
        if not rel.family_exception and facts.sender in ("current_pupil", "former_pupil"):
            # The family question is not asked where the policy has no exception: say so.
            guidance.append(
                pack.guidance(
                    clause if pack.has(clause) else "FR-DECLINE",
                    "The policy makes no exception for family members.",
                )
            )
        if facts.sender == "parent" and pack.has("FR-PARENT") and pack.school.official_account:
            guidance.append(
                pack.guidance(
                    "FR-PARENT",
                    f"Keep contact with parents to {pack.school.official_account}.",
                )
            )
        if facts.sender == "parent":
            ask = "FR-ASK-IT" if pack.has("FR-ASK-IT") else "FR-PARENT"
            if pack.has(ask):
                guidance.append(
                    pack.guidance(
                        ask, f"If you're unsure or concerned, talk to {rel.unsure_contact}."
                    )
                )
        # FR-REDIRECT is about pupils: a parent or a young person from elsewhere is not one.
        if (
            facts.sender == "current_pupil"
            and pack.school.official_account
            and pack.has("FR-REDIRECT")
        ):
            guidance.append(
                pack.guidance(
                    "FR-REDIRECT",
                    f"If they want to keep in touch, point them to {pack.school.official_account}.",
                )
            )
        verdict: Verdict = "decline"
    elif facts.sender == "parent" and rel.parents == "conflict_of_interest":
        guidance.append(
            pack.guidance(
                clause if pack.has(clause) else "FR-DECLINE",
                "Only accept if it won't create a conflict of interest or call your objectivity "
                f"into question. If you're concerned, talk to {rel.unsure_contact}.",
            )
        )
        verdict = "use_judgement"
    else:
        cite_as = clause if pack.has(clause) else "FR-DECLINE"
        guidance.append(
            pack.guidance(
                cite_as,
                f"{_why_no_rule(pack, facts, clause, today)} Use your professional judgement "
                f"and keep any contact professional. If unsure, talk to {rel.unsure_contact}.",
            )
        )
        verdict = "use_judgement"

    child = _is_child(facts, today)
    routine_case = verdict == "decline" and tell_dsl and (child or facts.already_accepted)
    return _finish(pack, facts, verdict, guidance, routine_case=routine_case, until=until, dsl=dsl)


def _decline(pack: PolicyPack, facts: FriendRequestFacts, clause: str) -> Guidance:
    """One instruction: decline it, or, once accepted or answered, undo that instead."""
    if facts.already_accepted:
        text = (
            "You've already accepted or replied: remove the connection now (or decline the "
            "request, if it is still waiting) and don't carry on the conversation. Telling "
            "us was the right thing to do."
        )
    else:
        text = "Please decline the request, and don't reply to it."
    return pack.guidance(clause if pack.has(clause) else "FR-DECLINE", text)


def _finish(
    pack: PolicyPack,
    facts: FriendRequestFacts,
    verdict: Verdict,
    guidance: list[Guidance],
    *,
    routine_case: bool,
    until: date | None,
    dsl: str,
) -> FriendRequestDecision:
    urgent = facts.concerning
    if urgent:
        clause = next(
            (c for c in ("FR-DSL", "CB-SAFEGUARD", "CB-REPORT-SENIOR") if pack.has(c)),
            "FR-DECLINE",
        )
        guidance.append(
            pack.guidance(
                clause,
                f"Because something in the messages worries you, I've sent this to the {dsl} "
                "as urgent. Please keep the messages; don't delete anything.",
            )
        )
    elif routine_case:
        guidance.append(
            pack.guidance(
                "FR-DSL",
                f"I've sent this to the {dsl}, as the policy asks. When they pick it up, talk "
                "it through with them: it's routine and it protects you.",
            )
        )
    open_case = urgent or routine_case
    return FriendRequestDecision(
        verdict=verdict,
        guidance=guidance,
        open_case=open_case,
        urgent=urgent,
        clauses=[g.clause for g in guidance],
        contact_allowed_from=until,
    )


def retention_class(team: str, flags: Sequence[str], details: Mapping[str, Any]) -> str:
    """X-RECORD: worrying messages (or a child in danger) make it a safeguarding record
    about a child, whoever sent the request; otherwise a routine friend request."""
    if details.get("concerning") or about_a_child(team, flags):
        return classes.CHILD
    return classes.FRIEND_REQUEST
