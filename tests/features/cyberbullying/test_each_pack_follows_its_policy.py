"""Issue 23 point 5: every branch of the online-abuse report (target, threatening, police
consent, a pupil posted it or not, safeguarding, danger now, each harm) and of the concern
about a member of staff, in every pack, checked against what that school's policy says.
One test per pack checks each key instruction and the section it cites, and that no two
lines of one reply contradict each other.

The policy words each row rests on are quoted beside it.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.domain import harm as harms
from bot.domain.policy import PolicyPack, load_pack
from bot.features.cyberbullying.rules import AbuseFacts, PoliceConsent, assess_abuse
from bot.features.staff_concerns.rules import ConcernFacts, assess_concern
from tests.helpers import say

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
TO_DSL = "Because a child may be at risk, this has gone to the"
TO_SLT = "I've reported this to the senior leadership team."
DSL_DECIDES = "will decide whether to involve the police."
NOTHING_TO_DO = "You don't need to do anything about that."
BLOCK = "You can block and report the account"
KEEP = "screenshot anything new"
HARMS = (None, *(c.value for c in harms.HARMS))


@dataclass(frozen=True)
class Expected:
    to_dsl: str  # citation of "this has gone to the DSL as urgent"
    to_slt: str  # citation of "I've reported this to the senior leadership team"
    dsl_decides_police: str  # a threat to a pupil: the DSL decides about the police
    block: str | None  # CB-BLOCK, given only to the member of staff who is the target
    consent: bool  # CB-POLICE: a threat to staff asks their consent
    reported_anyway: bool  # CB-POLICE: illegal conduct is reported whatever they answer
    allegation: str  # SG-ALLEGATION: the allegation goes to the head, cited so
    self_report: str  # SG-SELF-REPORT


@functools.cache
def pack(name: str) -> PolicyPack:
    return load_pack(name)


def branches() -> itertools.product:
    consents: tuple[PoliceConsent, ...] = ("given", "declined", "not_asked")
    return itertools.product(
        ("me", "colleague", "pupil"), (False, True), consents, ("yes", "no", "unsure"),
        (False, True), (False, True), HARMS,
    )  # fmt: skip


def check_abuse(name: str, want: Expected) -> None:
    p = pack(name)
    for target, threat, consent, author, safeguarding, danger, harm in branches():
        if harm is not None and target != "pupil":
            continue  # the harm question is asked about a pupil only
        if consent != "not_asked" and (not threat or target == "pupil" or not want.consent):
            continue  # consent is asked only for a threat to staff, where CB-POLICE is mapped
        facts = AbuseFacts(target, threat, consent, author, safeguarding, danger_now=danger)  # type: ignore[arg-type]
        said = [g.text for g in assess_abuse(p, facts, NOW, harm=harm).guidance]
        where = (name, target, threat, consent, author, safeguarding, danger, harm)
        to_child = target == "pupil" or safeguarding
        first = said[0]
        if to_child:
            assert first.startswith(TO_DSL) and first.endswith(f"({want.to_dsl})"), where
        else:
            assert first == f"{TO_SLT} ({want.to_slt})", where
        police = [s for s in said if DSL_DECIDES in s]
        if threat and target == "pupil":
            assert len(police) == 1 and police[0].endswith(f"({want.dsl_decides_police})"), where
            # "Call 999 first" and "you don't need to do anything" never share a reply.
            assert (NOTHING_TO_DO in police[0]) == (not danger), where
        else:
            assert not police, where
        blocks = [s for s in said if BLOCK in s]
        may_block = want.block is not None and target == "me"
        assert blocks == ([f"{BLOCK} on the platform. ({want.block})"] if may_block else []), where
        if harm in (harms.NUDES, harms.GROOMING):  # UKCIS: never a copy of an image of a child
            assert not any(KEEP in s for s in said), where
        if consent == "given":
            assert any("consent, the school will report this to the police" in s for s in said)
        if consent == "declined":
            [police_line] = [s for s in said if "police" in s]
            anyway = "the school will still report it to the police, as the policy says"
            assert (anyway in police_line) == want.reported_anyway, where
            assert ("won't report it" in police_line) == (
                target == "colleague" and not want.reported_anyway
            ), where


def check_concerns(name: str, want: Expected) -> None:
    p = pack(name)
    head = p.safeguarding.allegation_to[0]
    for concern, held in itertools.product(("allegation", "low_level", "self"), ((), (head,))):
        r = assess_concern(p, ConcernFacts(concern, frozenset(held)), NOW)  # type: ignore[arg-type]
        said = [g.text for g in r.guidance]
        assert r.role not in held, (name, concern, held)  # never to the person it's about
        if concern == "allegation":
            assert r.urgent and [t.title for t in r.tasks] == [
                "Speak to the LADO (within one working day)"
            ]
            assert all(s.endswith(f"({want.allegation})") for s in said), (name, said)
        if concern == "self":
            assert said[0] == f"Please delete the post now, if you can. ({want.self_report})"
            assert "Tell your line manager too." in said[1]


def check(name: str, want: Expected) -> None:
    check_abuse(name, want)
    check_concerns(name, want)


@pytest.mark.issue(23, 5)
def test_5_default_pack_follows_its_model_policy_and_kcsie():
    check(
        "default",
        Expected(
            to_dsl="Policy 5.3",
            to_slt="Policy 5.3",
            dsl_decides_police="Policy 5.5, 5.3",
            block="Policy 5.8",
            consent=True,
            reported_anyway=False,
            allegation="KCSIE 2025 Part 4 section 1",
            self_report="KCSIE 2025 Part 4 section 2",
        ),
    )


@pytest.mark.issue(23, 5)
def test_5_dukeries_sends_pupils_abuse_to_the_dsl_by_2_4_and_cites_kcsie_for_the_police():
    check(
        "dukeries-academy",
        Expected(
            # 2.4 "Inform the Designated Safeguarding Lead or senior leader responsible
            # (depending on the event) of any event that may concern them."
            to_dsl="Policy 2.4",
            to_slt="Policy 2.4",
            # 2.4 says nothing about the police: KCSIE Part 1 "a referral should be made to
            # children's social care and/or the police immediately".
            dsl_decides_police="Policy 2.4; KCSIE 2025 Part 1",
            block=None,
            consent=False,
            reported_anyway=False,
            allegation="KCSIE 2025 Part 4 section 1",
            self_report="KCSIE 2025 Part 4 section 2",
        ),
    )


@pytest.mark.issue(23, 5)
def test_5_harmonize_follows_sections_6_7_and_8():
    check(
        "harmonize-academy",
        Expected(
            # 6 "Any content or online activity which raises a safeguarding concern must be
            # reported to the lead safeguarding officer"
            to_dsl="Policy 6",
            to_slt="Policy 7",  # 7 "you should immediately report this to a senior manager"
            # 8 "If the material is threatening and/or intimidating, senior management will,
            # with the member of staff's consent, report the matter to the police."
            dsl_decides_police="Policy 8, 6",
            block=None,
            consent=True,
            reported_anyway=False,
            allegation="KCSIE 2025 Part 4 section 1",
            self_report="KCSIE 2025 Part 4 section 2",
        ),
    )


@pytest.mark.issue(23, 5)
def test_5_king_jamess_blocks_only_for_the_target_and_reports_illegal_conduct_by_2_4():
    check(
        "king-jamess-school",
        Expected(
            to_dsl="Policy 3",  # 3 "Ensure you are up to date with current safeguarding procedure"
            to_slt="Policy 2.4",  # 2.4 "reported as soon as possible to a relevant senior member"
            # 2.4 "Where conduct is considered illegal, the school will report the matter to
            # the police"
            dsl_decides_police="Policy 2.4, 3",
            block="Policy 2.6",  # 2.6 "school users should block, report or delete other users"
            consent=True,
            # "Where conduct is considered illegal, the school will report the matter to the
            # police": never "the school won't report it" after a "no".
            reported_anyway=True,
            # 2.6 "If you feel that you or someone else is subject to abuse by colleagues ...
            # must be reported using the agreed school protocols"
            allegation="Policy 2.6",
            # 2.8 "they must delete it immediately and inform their Line Manager"
            self_report="Policy 2.8",
        ),
    )


@pytest.mark.issue(23, 5)
def test_5_merriott_haselbury_cites_kcsie_not_9_a_for_the_dsl_route():
    check(
        "merriott-haselbury-federation",
        Expected(
            # The policy names no DSL; 9.a "Inform SLT immediately regarding any offensive
            # comments" is the SLT route only. The DSL route rests on KCSIE Part 1.
            to_dsl="KCSIE 2025 Part 1",
            to_slt="Policy 9.a",
            # 7.g "Where conduct is considered illegal, the Federation will report the matter
            # to the police"; the DSL's part, KCSIE.
            dsl_decides_police="Policy 7.g; KCSIE 2025 Part 1",
            block="Policy 9.c",  # 9.c "Federation users should block, report or delete"
            consent=True,
            # "Where conduct is considered illegal, the school will report the matter to the
            # police": never "the school won't report it" after a "no".
            reported_anyway=True,
            allegation="Policy 9.d",  # 9.d "... reported using the agreed Federation protocols"
            self_report="Policy 11.d, 15.a.ix",  # 11.d "they must delete it immediately"
        ),
    )


@pytest.mark.issue(23, 5)
def test_5_st_anns_blocks_only_when_the_reporter_is_the_target():
    check(
        "st-anns-school",
        Expected(
            # Safeguarding "Responsibilities for safeguarding apply equally to online
            # behaviour ... Sheffield Safeguarding Children Board policies apply"
            to_dsl="Policy Safeguarding",
            to_slt="Policy Raising Concerns",
            # Nothing in the policy about the police: KCSIE Part 1.
            dsl_decides_police="Policy Safeguarding; KCSIE 2025 Part 1",
            # Appendix 1 "If you are the target of bullying or abuse online you can take
            # action ... such as blocking individuals from interacting with you"
            block="Policy Appendix 1",
            consent=False,
            reported_anyway=False,
            # "Judgement ... will be made by the Headteacher and Governors"
            allegation="Policy introduction",
            self_report="KCSIE 2025 Part 4 section 2",
        ),
    )


@pytest.mark.issue(23, 5)
def test_5_a_child_in_danger_now_is_never_told_there_is_nothing_to_do(service_factory):
    """Walked as a teacher types it: danger now and a threat to a pupil, in one reply."""
    service = service_factory("default")
    [reply] = say(service, "t", "I want to report cyberbullying", "a pupil", "yes",
                  "threats of violence", "snapchat", "no link", "yesterday",
                  "Messages threatening a Year 9 pupil", "done", "yes", "no")[-1:]  # fmt: skip
    assert "call 999 first" in reply
    assert DSL_DECIDES in reply and NOTHING_TO_DO not in reply
    assert BLOCK not in reply


@pytest.mark.issue(23, 5)
@pytest.mark.parametrize(
    "name,anyway", [("king-jamess-school", True), ("harmonize-academy", False)]
)
def test_5_the_police_question_says_when_illegal_conduct_is_reported_anyway(
    service_factory, name, anyway
):
    """King James's 2.4 reports illegal conduct whatever staff say; Harmonize 8 asks first
    ("with the member of staff's consent")."""
    service = service_factory(name)
    asked = say(service, "t", "I want to report cyberbullying", "me", "facebook", "no link",
                "yesterday", "A parent threatening me", "done", "yes")[-1]  # fmt: skip
    assert "report it to the police?" in asked
    assert ("the school will report it whatever the answer" in asked) == anyway
