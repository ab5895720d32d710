"""FR-* friend-request rules (bot.features.friend_requests.rules) against all six bundled policy packs.

Every test id names the pack and the clause IDs it checks. Every decision is also checked for
its citations: each guidance line must end with the pack's own reference, `pack.cite(clause)`.
"""

from __future__ import annotations

import functools
from datetime import date

import pytest

from bot.domain.policy import PolicyPack, load_pack
from bot.features.friend_requests.rules import (
    FriendRequestDecision,
    FriendRequestFacts,
    add_years,
    age_on,
    decide_friend_request,
    eighteenth_birthday,
)

TODAY = date(2026, 11, 21)

DEFAULT = "default"
DUKERIES = "dukeries-academy"
ST_ANNS = "st-anns-school"
KJS = "king-jamess-school"
HARMONIZE = "harmonize-academy"
MERRIOTT = "merriott-haselbury-federation"
PACKS = (DEFAULT, DUKERIES, ST_ANNS, KJS, HARMONIZE, MERRIOTT)
SENDERS = ("current_pupil", "former_pupil", "parent", "young_person")

DECLINE_TEXT = "Please decline the request, and don't reply to it."
REMOVE_TEXT = "remove the connection now"

# FR-* clause IDs
DECLINE = "FR-DECLINE"
DSL = "FR-DSL"
REDIRECT = "FR-REDIRECT"
FAMILY = "FR-FAMILY"
ANY_SCHOOL = "FR-ANY-SCHOOL"
EXPUPIL_KJS = "FR-EXPUPIL-KJS"
U18 = "FR-EXPUPIL-U18"
PARENT = "FR-PARENT"
CONFLICT = "FR-PARENT-CONFLICT"
ASK_IT = "FR-ASK-IT"


@functools.cache
def pack(name: str) -> PolicyPack:
    return load_pack(name)


def check_citations(p: PolicyPack, decision: FriendRequestDecision) -> None:
    assert decision.guidance, "a decision always says something"
    assert decision.clauses == [g.clause for g in decision.guidance]
    for line in decision.guidance:
        cite = p.cite(line.clause)
        assert cite, f"{line.clause} is cited but the pack has no reference for it"
        assert line.text.endswith(" " + cite), line.text


def decide(
    name: str,
    sender: str,
    *,
    family: bool = False,
    accepted: bool = False,
    concerning: bool = False,
    left_on: date | None = None,
    age: int | None = None,
    born_on: date | None = None,
    today: date = TODAY,
) -> FriendRequestDecision:
    facts = FriendRequestFacts(
        sender=sender,  # type: ignore[arg-type]
        family=family,
        platform="instagram",
        already_accepted=accepted,
        concerning=concerning,
        left_on=left_on,
        age=age,
        born_on=born_on,
    )
    decision = decide_friend_request(pack(name), facts, today)
    check_citations(pack(name), decision)
    return decision


def expect(
    decision: FriendRequestDecision,
    verdict: str,
    clauses: list[str],
    *,
    case: bool,
    urgent: bool = False,
    until: date | None = None,
) -> None:
    got = (
        decision.verdict,
        decision.clauses,
        decision.open_case,
        decision.urgent,
        decision.contact_allowed_from,
    )
    assert got == (verdict, clauses, case, urgent, until)


def texts(decision: FriendRequestDecision, clause: str) -> list[str]:
    return [g.text for g in decision.guidance if g.clause == clause]


def cid(name: str, clauses: list[str], label: str) -> str:
    return f"{name}-{'-'.join(dict.fromkeys(clauses)) or 'none'}-{label}"


# --- pack profiles: the pack data each table below relies on ---------------------------------

PROFILES = {
    # pack: (DSL case for pupils, FR-REDIRECT line, family exception, any_school, former rule,
    #        parents, other_young_people)
    DEFAULT: (True, True, True, True, "until_age", "conflict_of_interest", "decline"),
    DUKERIES: (True, True, True, True, "judgement", "conflict_of_interest", "decline"),
    ST_ANNS: (False, False, True, False, "never", "forbidden", "decline"),
    KJS: (False, False, True, False, "years_or_age", "forbidden", "judgement"),
    HARMONIZE: (True, False, True, False, "until_age", "forbidden", "decline"),
    MERRIOTT: (False, False, False, False, "until_age", "judgement", "judgement"),
}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, id=f"{n}-FR-DSL-FR-REDIRECT-FR-FAMILY-FR-ANY-SCHOOL-profile") for n in PACKS],
)
def test_pack_profile(name: str) -> None:
    p = pack(name)
    rel = p.relationships
    profile = (
        rel.tell_dsl_about_pupil_requests and p.has(DSL),
        bool(p.school.official_account) and p.has(REDIRECT),
        rel.family_exception and p.has(FAMILY),
        rel.any_school and p.has(ANY_SCHOOL),
        rel.former_pupils.rule,
        rel.parents,
        rel.other_young_people,
    )
    assert profile == PROFILES[name]
    assert p.has(DECLINE)


def test_pack_rule_parameters() -> None:
    assert pack(KJS).relationships.former_pupils.years == 3
    for name in (DEFAULT, HARMONIZE, MERRIOTT, KJS):
        assert pack(name).relationships.former_pupils.age == 18
    # Merriott 12.b.i gives no family exception; St Ann's has no official account at all.
    assert not pack(MERRIOTT).has(FAMILY)
    assert pack(ST_ANNS).school.official_account is None


# --- current pupil, not family: FR-DECLINE (+ FR-REDIRECT, FR-DSL) ----------------------------

CURRENT_PUPIL = [
    (DEFAULT, [DECLINE, REDIRECT, DSL], True, "(Policy 4.1)"),
    (DUKERIES, [DECLINE, REDIRECT, DSL], True, "(Policy 5.4)"),
    (ST_ANNS, [DECLINE], False, "(Policy Appendix 1)"),
    (KJS, [DECLINE], False, "(Policy 2.9)"),
    (HARMONIZE, [DECLINE, DSL], True, "(Policy 5)"),
    (MERRIOTT, [DECLINE, DECLINE], False, "(Policy 12.b.i)"),
]


@pytest.mark.parametrize(
    ("name", "clauses", "case", "cite"),
    [pytest.param(*row, id=cid(row[0], row[1], "current-pupil")) for row in CURRENT_PUPIL],
)
def test_current_pupil_is_declined(name: str, clauses: list[str], case: bool, cite: str) -> None:
    p = pack(name)
    d = decide(name, "current_pupil")
    expect(d, "decline", clauses, case=case)
    assert d.guidance[0].text == f"{DECLINE_TEXT} {cite}"
    assert case == (p.relationships.tell_dsl_about_pupil_requests and p.has(DSL))
    if REDIRECT in clauses:
        assert p.school.official_account in texts(d, REDIRECT)[0]
    if DSL in clauses:
        assert texts(d, DSL) == [
            f"I've sent this to the {p.role_label(p.lead_dsl_role)}, as the policy asks. When "
            f"they pick it up, talk it through with them: it's routine and it protects you. "
            f"{p.cite(DSL)}"
        ]
    assert not any(REMOVE_TEXT in g.text for g in d.guidance)


# --- family: FR-FAMILY (+ FR-ASK-IT for King James's) ----------------------------------------

FAMILY_PACKS = [
    (DEFAULT, [FAMILY], "(Policy 4.2)"),
    (DUKERIES, [FAMILY], "(Policy 5.1)"),
    (ST_ANNS, [FAMILY], "(Policy Appropriate Online Relationships)"),
    (KJS, [FAMILY, ASK_IT], "(Policy 2.9)"),
    (HARMONIZE, [FAMILY], "(Policy 5)"),
]


@pytest.mark.parametrize(
    ("name", "clauses", "cite", "sender", "accepted"),
    [
        pytest.param(
            name,
            clauses,
            cite,
            sender,
            accepted,
            id=cid(name, clauses, f"family-{sender}{'-accepted' if accepted else ''}"),
        )
        for name, clauses, cite in FAMILY_PACKS
        for sender in SENDERS
        for accepted in (False, True)
    ],
)
def test_family_member_is_allowed_with_care(
    name: str, clauses: list[str], cite: str, sender: str, accepted: bool
) -> None:
    # A family member who would otherwise be off-limits (a 16-year-old who left last year).
    d = decide(name, sender, family=True, accepted=accepted, age=16, left_on=date(2025, 7, 18))
    expect(d, "allowed_with_care", clauses, case=False)
    assert d.guidance[0].text.startswith("Family members are an exception")
    assert d.guidance[0].text.endswith(cite)
    assert not any(REMOVE_TEXT in g.text for g in d.guidance)
    if ASK_IT in clauses:
        assert texts(d, ASK_IT) == [
            "If you're unsure or concerned, talk to the Director of IT. (Policy 2.9)"
        ]


MERRIOTT_FAMILY = [
    ("current_pupil", {}, "decline", [DECLINE, DECLINE], None),
    ("former_pupil", {"age": 16}, "decline", [U18, U18, U18], date(2028, 11, 21)),
    ("former_pupil", {"age": 30}, "use_judgement", [U18], None),
    ("parent", {}, "use_judgement", [DECLINE], None),
    ("young_person", {}, "use_judgement", [DECLINE], None),
]


@pytest.mark.parametrize(
    ("sender", "extra", "verdict", "clauses", "until"),
    [
        pytest.param(*row, id=cid(MERRIOTT, row[3], f"family-no-exception-{row[0]}-{i}"))
        for i, row in enumerate(MERRIOTT_FAMILY)
    ],
)
def test_merriott_family_falls_through_to_normal_rule(
    sender: str, extra: dict, verdict: str, clauses: list[str], until: date | None
) -> None:
    family = decide(MERRIOTT, sender, family=True, **extra)
    expect(family, verdict, clauses, case=False, until=until)
    assert FAMILY not in family.clauses
    # Exactly what a non-family sender gets: 12.b.i has no family exception.
    assert family == decide(MERRIOTT, sender, family=False, **extra)


# --- former pupils: "until_age" (default, Harmonize, Merriott) -- FR-EXPUPIL-U18 -------------

UNTIL_AGE_TAIL = {DEFAULT: [DSL], HARMONIZE: [DSL], MERRIOTT: [U18]}

UNTIL_AGE_CASES = [
    # label, facts, restricted, contact_allowed_from
    ("aged-16", {"age": 16}, True, date(2028, 11, 21)),
    ("aged-17", {"age": 17}, True, date(2027, 11, 21)),
    ("born-2009-03-10", {"born_on": date(2009, 3, 10)}, True, date(2027, 3, 10)),
    ("18-tomorrow", {"born_on": date(2008, 11, 22)}, True, date(2026, 11, 22)),
    ("18-today", {"born_on": date(2008, 11, 21)}, False, None),
    ("aged-18", {"age": 18}, False, None),
    ("aged-25", {"age": 25, "left_on": date(2019, 7, 19)}, False, None),
    ("age-unknown", {}, True, None),
]


@pytest.mark.parametrize(
    ("name", "facts", "restricted", "until"),
    [
        pytest.param(
            name,
            facts,
            restricted,
            until,
            id=cid(
                name,
                [U18, *(UNTIL_AGE_TAIL[name] if restricted else [])],
                f"former-pupil-{label}",
            ),
        )
        for name in (DEFAULT, HARMONIZE, MERRIOTT)
        for label, facts, restricted, until in UNTIL_AGE_CASES
    ],
)
def test_former_pupil_until_age(
    name: str, facts: dict, restricted: bool, until: date | None
) -> None:
    p = pack(name)
    d = decide(name, "former_pupil", **facts)
    if not restricted:
        expect(d, "use_judgement", [U18], case=False)
        assert "professional judgement" in d.guidance[0].text
        return
    head = [U18, U18] if until else [U18]
    case = p.has(DSL) and p.relationships.tell_dsl_about_pupil_requests  # under 18 or unknown
    expect(d, "decline", head + UNTIL_AGE_TAIL[name], case=case, until=until)
    assert d.guidance[0].text == f"{DECLINE_TEXT} {p.cite(U18)}"
    if until:
        assert until > TODAY
        assert d.guidance[1].text == (
            f"The policy allows contact from {until.day} {until:%B %Y} at the earliest. "
            f"{p.cite(U18)}"
        )


# --- former pupils: "never" (St Ann's) -- FR-DECLINE ------------------------------------------

NEVER_CASES = [
    ("aged-30-left-2010", {"age": 30, "left_on": date(2010, 7, 20)}),
    ("aged-15", {"age": 15}),
    ("born-1995", {"born_on": date(1995, 5, 1)}),
    ("age-unknown", {}),
]


@pytest.mark.parametrize(
    "facts",
    [
        pytest.param(f, id=cid(ST_ANNS, [DECLINE], f"former-pupil-never-{label}"))
        for label, f in NEVER_CASES
    ],
)
def test_former_pupil_never_st_anns(facts: dict) -> None:
    d = decide(ST_ANNS, "former_pupil", **facts)
    expect(d, "decline", [DECLINE], case=False)
    assert d.guidance[0].text == f"{DECLINE_TEXT} (Policy Appendix 1)"


# --- former pupils: "years_or_age" (King James's) -- FR-EXPUPIL-KJS ---------------------------

KJS_CASES = [
    # label, facts, today, contact_allowed_from (None + restricted=False means judgement)
    ("left-1y-ago-aged-19", {"left_on": date(2025, 11, 21), "age": 19}, TODAY, True, date(2028, 11, 21)),
    ("left-4y-ago-aged-17", {"left_on": date(2022, 7, 20), "age": 17}, TODAY, True, date(2027, 11, 21)),
    ("left-4y-ago-aged-22", {"left_on": date(2022, 7, 20), "age": 22}, TODAY, False, None),
    ("left-exactly-3y-ago-aged-20", {"left_on": date(2023, 11, 21), "age": 20}, TODAY, False, None),
    ("left-3y-ago-tomorrow-aged-20", {"left_on": date(2023, 11, 22), "age": 20}, TODAY, True, date(2026, 11, 22)),
    ("no-leaving-date-aged-16", {"age": 16}, TODAY, True, date(2028, 11, 21)),
    ("no-leaving-date-aged-22", {"age": 22}, TODAY, True, None),
    ("no-leaving-date-no-age", {}, TODAY, True, None),
    ("left-1y-ago-age-unknown", {"left_on": date(2025, 7, 18)}, TODAY, True, date(2028, 7, 18)),
    ("left-4y-ago-age-unknown", {"left_on": date(2022, 7, 20)}, TODAY, True, None),
    ("dob-aged-18-3y-rule-longer", {"left_on": date(2024, 7, 19), "born_on": date(2008, 6, 1)}, TODAY, True, date(2027, 7, 19)),
    ("dob-aged-16-age-rule-longer", {"left_on": date(2021, 7, 20), "born_on": date(2009, 12, 25)}, TODAY, True, date(2027, 12, 25)),
    ("dob-adult-left-2020", {"left_on": date(2020, 7, 17), "born_on": date(2004, 1, 1)}, TODAY, False, None),
    ("dob-29-feb-on-28-feb-2026", {"left_on": date(2020, 7, 17), "born_on": date(2008, 2, 29)}, date(2026, 2, 28), True, date(2026, 3, 1)),
    ("dob-29-feb-on-1-mar-2026", {"left_on": date(2020, 7, 17), "born_on": date(2008, 2, 29)}, date(2026, 3, 1), False, None),
    ("left-29-feb-2024-on-28-feb-2027", {"left_on": date(2024, 2, 29), "age": 20}, date(2027, 2, 28), True, date(2027, 3, 1)),
    ("left-29-feb-2024-on-1-mar-2027", {"left_on": date(2024, 2, 29), "age": 20}, date(2027, 3, 1), False, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "today", "restricted", "until"),
    [
        pytest.param(facts, today, restricted, until, id=cid(KJS, [EXPUPIL_KJS], label))
        for label, facts, today, restricted, until in KJS_CASES
    ],
)
def test_former_pupil_years_or_age_king_jamess(
    facts: dict, today: date, restricted: bool, until: date | None
) -> None:
    d = decide(KJS, "former_pupil", today=today, **facts)
    if not restricted:
        expect(d, "use_judgement", [EXPUPIL_KJS], case=False)
        return
    clauses = [EXPUPIL_KJS, EXPUPIL_KJS] if until else [EXPUPIL_KJS]
    # King James's has no FR-DSL: no case even for a child; no FR-REDIRECT line either.
    expect(d, "decline", clauses, case=False, until=until)
    assert d.guidance[0].text == f"{DECLINE_TEXT} (Policy 2.9)"
    if until:
        assert until > today, "a decline never says contact is already allowed"
        assert d.guidance[1].text == (
            f"The policy allows contact from {until.day} {until:%B %Y} at the earliest. "
            "(Policy 2.9)"
        )


# --- former pupils: "judgement" (Dukeries) -- FR-ANY-SCHOOL under 18 --------------------------

DUKERIES_FORMER = [
    ("adult-aged-20", {"age": 20, "left_on": date(2025, 7, 18)}, "use_judgement", [DECLINE], False),
    ("aged-18", {"age": 18}, "use_judgement", [DECLINE], False),
    ("aged-16", {"age": 16}, "decline", [ANY_SCHOOL, DSL], True),
    ("dob-aged-17", {"born_on": date(2009, 5, 1)}, "decline", [ANY_SCHOOL, DSL], True),
    # No age given: they may still be a pupil somewhere (5.1), so decline cautiously.
    ("age-unknown", {}, "decline", [ANY_SCHOOL, DSL], True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "verdict", "clauses", "case"),
    [
        pytest.param(*row[1:], id=cid(DUKERIES, row[2], f"former-pupil-judgement-{row[0]}"))
        for row in DUKERIES_FORMER
    ],
)
def test_former_pupil_judgement_dukeries(
    facts: dict, verdict: str, clauses: list[str], case: bool
) -> None:
    d = decide(DUKERIES, "former_pupil", **facts)
    expect(d, verdict, clauses, case=case)
    if verdict == "decline":
        assert d.guidance[0].text == f"{DECLINE_TEXT} (Policy 5.1, 5.5)"
        assert REDIRECT not in d.clauses  # FR-REDIRECT is about current pupils
    else:
        assert d.guidance[0].text.endswith("(Policy 5.4)")
        assert "the academy's Designated Safeguarding Lead" in d.guidance[0].text


# --- parents and carers: FR-PARENT / FR-PARENT-CONFLICT / judgement --------------------------

PARENTS = [
    (HARMONIZE, "decline", [PARENT, PARENT, PARENT]),
    (KJS, "decline", [PARENT, ASK_IT]),
    (DEFAULT, "use_judgement", [CONFLICT]),
    (DUKERIES, "use_judgement", [CONFLICT]),
    (ST_ANNS, "decline", [PARENT, PARENT]),
    (MERRIOTT, "use_judgement", [DECLINE]),
]


@pytest.mark.parametrize(
    ("name", "verdict", "clauses"),
    [
        pytest.param(*row, id=cid(row[0], row[2], f"parent-{pack(row[0]).relationships.parents}"))
        for row in PARENTS
    ],
)
def test_parent_request(name: str, verdict: str, clauses: list[str]) -> None:
    p = pack(name)
    d = decide(name, "parent")
    # An adult sender: no routine DSL case unless they were already accepted (below).
    expect(d, verdict, clauses, case=False)
    rule = p.relationships.parents
    if rule == "forbidden":
        assert d.guidance[0].text == f"{DECLINE_TEXT} {p.cite(PARENT)}"
        if p.school.official_account:
            assert texts(d, PARENT)[1].startswith(
                f"Keep contact with parents to {p.school.official_account}"
            )
        assert p.relationships.unsure_contact in d.guidance[-1].text
    elif rule == "conflict_of_interest":
        assert "conflict of interest" in d.guidance[0].text
        assert p.relationships.unsure_contact in d.guidance[0].text
    else:
        assert "professional judgement" in d.guidance[0].text
    if ASK_IT in clauses:
        assert texts(d, ASK_IT) == [
            "If you're unsure or concerned, talk to the Director of IT. (Policy 2.9)"
        ]


# --- another young person: FR-ANY-SCHOOL / other_young_people ---------------------------------

YOUNG_PEOPLE = [
    (DEFAULT, "decline", [ANY_SCHOOL, DSL], True),
    (DUKERIES, "decline", [ANY_SCHOOL, DSL], True),
    (ST_ANNS, "decline", [DECLINE], False),
    (HARMONIZE, "decline", [DECLINE, DSL], True),
    (KJS, "use_judgement", [DECLINE], False),
    (MERRIOTT, "use_judgement", [DECLINE], False),
]


@pytest.mark.parametrize(
    ("name", "verdict", "clauses", "case"),
    [pytest.param(*row, id=cid(row[0], row[2], "young-person")) for row in YOUNG_PEOPLE],
)
def test_other_young_person(name: str, verdict: str, clauses: list[str], case: bool) -> None:
    p = pack(name)
    d = decide(name, "young_person")
    expect(d, verdict, clauses, case=case)
    if p.relationships.any_school:
        assert d.clauses[0] == ANY_SCHOOL
    else:
        expected = "decline" if p.relationships.other_young_people == "decline" else "use_judgement"
        assert d.verdict == expected
        if expected == "use_judgement":
            assert p.relationships.unsure_contact in d.guidance[0].text


# --- already accepted or replied: "remove the connection" + DSL case -------------------------

ACCEPTED = [
    (DEFAULT, "current_pupil", {}, "decline", [DECLINE, REDIRECT, DSL], True, None),
    (DUKERIES, "current_pupil", {}, "decline", [DECLINE, REDIRECT, DSL], True, None),
    (ST_ANNS, "current_pupil", {}, "decline", [DECLINE], False, None),
    (KJS, "current_pupil", {}, "decline", [DECLINE], False, None),
    (HARMONIZE, "current_pupil", {}, "decline", [DECLINE, DSL], True, None),
    (MERRIOTT, "current_pupil", {}, "decline", [DECLINE, DECLINE], False, None),
    # An adult sender: the case opens only because the connection was already made.
    (HARMONIZE, "parent", {}, "decline", [PARENT, PARENT, PARENT, DSL], True, None),
    (KJS, "parent", {}, "decline", [PARENT, ASK_IT], False, None),
    (ST_ANNS, "former_pupil", {"age": 30}, "decline", [DECLINE], False, None),
    (KJS, "former_pupil", {"age": 19, "left_on": date(2025, 11, 21)}, "decline", [EXPUPIL_KJS, EXPUPIL_KJS], False, date(2028, 11, 21)),
    (DEFAULT, "former_pupil", {"age": 17}, "decline", [U18, U18, DSL], True, date(2027, 11, 21)),
    (MERRIOTT, "former_pupil", {"age": 17}, "decline", [U18, U18, U18], False, date(2027, 11, 21)),
    (DUKERIES, "young_person", {}, "decline", [ANY_SCHOOL, DSL], True, None),
    # Not a decline: nothing to remove and nothing to report.
    (HARMONIZE, "former_pupil", {"age": 30}, "use_judgement", [U18], False, None),
    (DUKERIES, "former_pupil", {"age": 20}, "use_judgement", [DECLINE], False, None),
    (DEFAULT, "parent", {}, "use_judgement", [CONFLICT], False, None),
    (MERRIOTT, "young_person", {}, "use_judgement", [DECLINE], False, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "sender", "facts", "verdict", "clauses", "case", "until"),
    [
        pytest.param(*row, id=cid(row[0], row[4], f"{row[1]}-already-accepted-{i}"))
        for i, row in enumerate(ACCEPTED)
    ],
)
def test_already_accepted(
    name: str,
    sender: str,
    facts: dict,
    verdict: str,
    clauses: list[str],
    case: bool,
    until: date | None,
) -> None:
    p = pack(name)
    d = decide(name, sender, accepted=True, **facts)
    expect(d, verdict, clauses, case=case, until=until)
    removes = [g for g in d.guidance if REMOVE_TEXT in g.text]
    if verdict == "decline":
        # One instruction: undo it, never "decline" as well (issue 23 point 5).
        assert [g.clause for g in removes] == [d.clauses[0]]
        assert not any("Please decline" in g.text for g in d.guidance)
    else:
        assert removes == []
    assert case == (
        verdict == "decline" and p.has(DSL) and p.relationships.tell_dsl_about_pupil_requests
    )


# --- concerning content: always an urgent case, for every pack and every sender --------------

URGENT_CLAUSE = {
    DEFAULT: DSL,
    DUKERIES: DSL,
    ST_ANNS: "CB-SAFEGUARD",
    KJS: "CB-SAFEGUARD",
    HARMONIZE: DSL,
    MERRIOTT: "CB-REPORT-SENIOR",
}


def _is_routine(line) -> bool:
    return line.clause == DSL and "routine" in line.text


@pytest.mark.parametrize(
    ("name", "sender", "family", "accepted"),
    [
        pytest.param(
            name,
            sender,
            family,
            accepted,
            id=cid(
                name,
                [URGENT_CLAUSE[name]],
                f"concerning-{sender}{'-family' if family else ''}{'-accepted' if accepted else ''}",
            ),
        )
        for name in PACKS
        for sender in SENDERS
        for family in (False, True)
        for accepted in (False, True)
    ],
)
def test_concerning_content_is_always_urgent(
    name: str, sender: str, family: bool, accepted: bool
) -> None:
    p = pack(name)
    facts = {"family": family, "accepted": accepted, "age": 16, "left_on": date(2025, 7, 18)}
    calm = decide(name, sender, **facts)
    d = decide(name, sender, concerning=True, **facts)
    assert d.open_case is True
    assert d.urgent is True
    # Same advice as without the worry, but the urgent line replaces the routine DSL note.
    assert d.verdict == calm.verdict
    assert d.contact_allowed_from == calm.contact_allowed_from
    assert d.guidance[:-1] == [g for g in calm.guidance if not _is_routine(g)]
    last = d.guidance[-1]
    assert last.clause == URGENT_CLAUSE[name]
    assert f"sent this to the {p.role_label(p.lead_dsl_role)} as urgent" in last.text
    assert "don't delete anything" in last.text
    assert not any(_is_routine(g) for g in d.guidance)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, id=cid(n, [FAMILY, URGENT_CLAUSE[n]], "concerning-family"))
        for n in PACKS[:5]
    ],
)
def test_concerning_family_member_stays_allowed_but_urgent(name: str) -> None:
    d = decide(name, "current_pupil", family=True, concerning=True)
    assert (d.verdict, d.open_case, d.urgent) == ("allowed_with_care", True, True)
    assert d.clauses[0] == FAMILY and d.clauses[-1] == URGENT_CLAUSE[name]


# --- dates: add_years, age_on, eighteenth_birthday (29 February) -----------------------------


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        pytest.param(date(2010, 6, 15), 3, date(2013, 6, 15), id="FR-EXPUPIL-KJS-add-years-plain"),
        pytest.param(date(2008, 2, 29), 18, date(2026, 3, 1), id="FR-EXPUPIL-U18-29-feb-to-1-mar"),
        pytest.param(date(2024, 2, 29), 3, date(2027, 3, 1), id="FR-EXPUPIL-KJS-left-29-feb"),
        pytest.param(date(2008, 2, 29), 4, date(2012, 2, 29), id="FR-EXPUPIL-U18-29-feb-leap-year"),
        pytest.param(date(2008, 2, 28), 18, date(2026, 2, 28), id="FR-EXPUPIL-U18-28-feb"),
    ],
)
def test_add_years(day: date, years: int, expected: date) -> None:
    assert add_years(day, years) == expected


def _former(**kw) -> FriendRequestFacts:
    return FriendRequestFacts("former_pupil", False, "instagram", False, False, **kw)


def test_29_february_birthday_agrees_with_age_on() -> None:
    leapling = _former(born_on=date(2008, 2, 29))
    birthday = eighteenth_birthday(leapling, TODAY)
    assert birthday == date(2026, 3, 1)
    assert age_on(leapling, birthday) == 18
    assert age_on(leapling, date(2026, 2, 28)) == 17


def test_eighteenth_birthday_from_age_is_the_latest_possible_date() -> None:
    assert eighteenth_birthday(_former(age=17), TODAY) == date(2027, 11, 21)
    assert eighteenth_birthday(_former(age=25), TODAY) == TODAY
    assert eighteenth_birthday(_former(), TODAY) is None
    assert age_on(_former(born_on=date(2008, 11, 22)), TODAY) == 17
    assert age_on(_former(age=40), TODAY) == 40


@pytest.mark.parametrize(
    ("name", "today", "verdict", "until"),
    [
        pytest.param(n, date(2026, 2, 28), "decline", date(2026, 3, 1), id=f"{n}-FR-EXPUPIL-U18-29-feb-born-on-28-feb")
        for n in (DEFAULT, HARMONIZE, MERRIOTT)
    ]
    + [
        pytest.param(n, date(2026, 3, 1), "use_judgement", None, id=f"{n}-FR-EXPUPIL-U18-29-feb-born-on-1-mar")
        for n in (DEFAULT, HARMONIZE, MERRIOTT)
    ],
)  # fmt: skip
def test_29_february_birthday_until_age(
    name: str, today: date, verdict: str, until: date | None
) -> None:
    d = decide(name, "former_pupil", born_on=date(2008, 2, 29), today=today)
    assert (d.verdict, d.contact_allowed_from) == (verdict, until)
    assert d.clauses[0] == U18
