"""The privacy notice's content, made from the policy pack: one text for the /privacy page,
the Article 15 part of a subject access export and the DPIA draft, so they never disagree.

UK GDPR Articles 13 to 15 say what a person must be told: who the controller and its DPO
are, the purposes and lawful bases, the recipients, transfers, how long records are kept,
where the information came from, their rights and the right to complain to the ICO.
Retention comes from `domain.retention.rules(pack)`, the schedule the sweep applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.policy import PolicyPack
from bot.domain.retention import rules

ICO = (
    "the Information Commissioner's Office (ICO): ico.org.uk/make-a-complaint, helpline 0303 "
    "123 1113, or write to Wycliffe House, Water Lane, Wilmslow, Cheshire SK9 5AF"
)
# The chat services a school may turn on, as processors (bot.platforms names them).
PROCESSORS = {
    "slack": (
        "Slack (Slack Technologies, part of Salesforce) carries the conversations and alerts "
        "and keeps them in the school's Slack workspace, under the retention the school sets "
        "there. Slack may store and process data in the United States: the transfer relies on "
        "Slack's data processing addendum with the UK International Data Transfer Addendum, "
        "and the UK Extension to the EU-US Data Privacy Framework."
    ),
    "teams": (
        "Microsoft (Teams, Azure Bot Service and Entra ID sign-in) carries the conversations "
        "and alerts and keeps them in the school's Microsoft 365 tenant, under the retention "
        "the school sets there. Microsoft 365 data of UK customers is stored in the UK; the Bot "
        "Service may process messages outside it: the transfer relies on Microsoft's Data "
        "Protection Addendum with the UK International Data Transfer Addendum, and the UK "
        "Extension to the EU-US Data Privacy Framework."
    ),
    "email": (
        "The school's email provider delivers the alert emails sent to named role holders when "
        "an urgent case is not picked up in chat."
    ),
}
DEFAULT_SERVICES = ("slack", "teams")


@dataclass(frozen=True)
class Section:
    """One heading of the notice: paragraphs, then a list, then a two-column table."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    rows: tuple[tuple[str, str], ...] = ()


def dpo_line(pack: PolicyPack) -> str:
    """How to reach the DPO, or honestly that the school has not said yet."""
    if pack.school.dpo_known:
        return f"{pack.school.name}'s Data Protection Officer: {pack.school.dpo_contact}."
    return (
        f"{pack.school.name}'s Data Protection Officer can be reached through the school "
        "office (their contact details have not been added to schoolbot yet)."
    )


def host_line(pack: PolicyPack) -> str:
    host = pack.school.host or "the server the school runs schoolbot on"
    return (
        f"The host: {host}. It keeps the database and the evidence files; only the school's "
        "IT staff who run schoolbot can reach them."
    )


def processors(pack: PolicyPack, services: Sequence[str] = DEFAULT_SERVICES) -> tuple[str, ...]:
    return (host_line(pack), *(PROCESSORS[s] for s in services if s in PROCESSORS))


def retention_rows(pack: PolicyPack) -> tuple[tuple[str, str], ...]:
    return tuple((r.record, r.period) for r in rules(pack))


PURPOSES = (
    "Keeping children safe: staff report what they see online about pupils, and the "
    "safeguarding team (DSL) is told at once and follows it up (Keeping Children Safe in "
    "Education).",
    "Supporting staff who are abused or impersonated online, and dealing with it.",
    "Handling concerns and allegations about staff as KCSIE Part 4 requires: privately, by "
    "the one person who must handle them.",
    "Running the school's official social media accounts: requests, approvals, the register, "
    "and replies to comments on time.",
    "Keeping the records the law and the school's policy require, and disposing of them when "
    "their time is up.",
    "Telling governors how the policy is working, in counts only, never names.",
)
LAWFUL_BASES = (
    "UK GDPR Article 6(1)(e), public task: the school's duty to safeguard and promote the "
    "welfare of its pupils (Education Act 2002 section 175 or 157, and the Independent School "
    "Standards) and to run its policies.",
    "UK GDPR Article 6(1)(c), legal obligation: following Keeping Children Safe in Education "
    "and Working Together to Safeguard Children, keeping the records they require, and "
    "answering the local authority designated officer (LADO), the police and children's "
    "social care.",
    "Special category information (for example about a pupil's health or sex life in a "
    "safeguarding report): UK GDPR Article 9(2)(g), substantial public interest, with the Data "
    "Protection Act 2018 Schedule 1 paragraph 18 (safeguarding of children and of individuals "
    "at risk).",
    "For concerns about staff: UK GDPR Article 9(2)(b) with DPA 2018 Schedule 1 paragraph 1 "
    "(employment) where it applies, as well as paragraph 18.",
    "Information about crimes or alleged crimes: UK GDPR Article 10, with DPA 2018 section "
    "10(5) and Schedule 1 paragraph 18.",
    "The school keeps the appropriate policy document these conditions need (DPA 2018 "
    "Schedule 1 Part 4).",
)
SUBJECTS = (
    "Staff, governors and volunteers who use schoolbot, and people who hold its roles.",
    "Pupils, named or described in reports, notes and evidence files.",
    "Parents and carers, and other people who post about the school or its pupils online.",
    "Staff a concern or an allegation is about.",
    "People who comment on the school's official social media accounts.",
)
STORED = (
    "What staff tell it when they report something or ask for an official account: their "
    "answers, any notes, and the files they send as evidence.",
    "Who did what: who reported, who picked a case up, added a note, closed it or decided a "
    "request, and when. This record cannot be changed afterwards.",
    "Each person's chat account id and display name, and which staff hold the safeguarding "
    "(DSL), senior leadership (SLT) or approver roles (and an email address for urgent "
    "alerts, if the school adds one).",
    "What it needs to send messages later, such as the chat and channel ids it posts in.",
)
SOURCES = (
    "Mostly from the member of staff who makes a report or a request, in their own words.",
    "From the staff who handle it: notes, outcomes and decisions.",
    "From the chat service (Slack or Microsoft Teams): a person's account id and display name.",
    "From the school's official social media accounts: comments waiting for a reply.",
)
RIGHTS = (
    "To be told what is held about you and get a copy (a subject access request). Ask the "
    "DPO; the school has one month to answer.",
    "To have wrong information corrected.",
    "To ask for information to be deleted or its use restricted. Safeguarding records are "
    "kept for the time the law and the guidance set, even if you ask.",
    "To object to the school using it for its public task; the school will stop unless it "
    "has strong reasons, such as keeping a child safe.",
    "schoolbot makes no decisions about people by itself: it passes reports to people, who decide.",
)


def notice(pack: PolicyPack, services: Sequence[str] = DEFAULT_SERVICES) -> list[Section]:
    """The whole notice, in the order a reader needs it."""
    school = pack.school.name
    return [
        Section(
            "Who is responsible",
            (
                f"schoolbot is run by {school} for its staff. It helps staff follow the "
                f"school's {pack.school.policy_title}. {school} is the controller of the "
                "information it holds.",
                dpo_line(pack),
            ),
        ),
        Section("Why it is used", items=PURPOSES),
        Section("The law that allows it (lawful bases)", items=LAWFUL_BASES),
        Section("Whose information it holds", items=SUBJECTS),
        Section("What it stores", items=STORED),
        Section("Where the information comes from", items=SOURCES),
        Section(
            "Who can see it",
            items=(
                "The member of staff who reported something can see their own reports and "
                "what happened to them.",
                "The safeguarding (DSL) team sees the safeguarding cases; the senior "
                "leadership (SLT) team and approvers see the requests and cases that go to "
                "them. A concern about a member of staff goes to one named role only.",
                "Governors see counts, never names.",
                "The school's IT staff who run schoolbot can reach the database.",
            ),
        ),
        Section(
            "Who it is shared with",
            (
                "When the DSL or the Headteacher decides a referral is needed, they send the "
                "case record (a bundle of the report, its history and the evidence) to the "
                "people the law says must receive it:",
            ),
            items=(
                "the local authority designated officer (LADO), for an allegation about a "
                "member of staff;",
                "the police;",
                "children's social care at the local authority, and the local safeguarding "
                "partners.",
            ),
        ),
        Section(
            "Services that process it for the school (processors and transfers)",
            items=processors(pack, services),
        ),
        Section(
            "How long it is kept",
            (
                "The bot disposes of records by itself when their time is up, and keeps a log "
                "of what it removed. A case under a legal hold is kept until the hold is "
                "lifted. Technical records (which chat messages were already handled) are "
                "removed after a week.",
            ),
            rows=retention_rows(pack),
        ),
        Section("Your rights", items=RIGHTS),
        Section(
            "Questions and complaints",
            (
                f"Please contact {school} first: {dpo_line(pack)}",
                f"You have the right to complain to {ICO}.",
            ),
        ),
    ]


def as_text(sections: Sequence[Section]) -> str:
    """Plain text, for a subject access export."""
    lines: list[str] = []
    for section in sections:
        lines += [section.heading, "-" * len(section.heading), *section.paragraphs]
        lines += [f"  - {item}" for item in section.items]
        lines += [f"  - {record}: {period}" for record, period in section.rows]
        lines.append("")
    return "\n".join(lines)


def as_markdown(sections: Sequence[Section], level: int = 2) -> list[str]:
    """Markdown lines, for the DPIA draft."""
    lines: list[str] = []
    for section in sections:
        lines += [f"{'#' * level} {section.heading}", "", *(f"{p}\n" for p in section.paragraphs)]
        lines += [f"- {item}" for item in section.items]
        if section.rows:
            lines += ["| Record | Kept for |", "| --- | --- |"]
            lines += [f"| {record} | {period} |" for record, period in section.rows]
        lines.append("")
    return lines


def pack_warnings(pack: PolicyPack) -> list[str]:
    """What `policy check` warns about: the privacy notice would be incomplete."""
    if pack.school.dpo_known:
        return []
    return [
        "[school] dpo_contact is not filled in: the privacy notice and subject access "
        "exports can't say how to reach your Data Protection Officer. Put their name, email "
        "and phone there."
    ]
