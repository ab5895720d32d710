"""`schoolbot records dpia`: a data protection impact assessment draft for this installation.

The DPO completes and signs it. What the bot can know, it writes: the services turned on,
the data flows (a Mermaid diagram), the processors, every table and field it stores (read
from the database models, so a new field can't be left out), the retention schedule, and
the risks with the code that reduces each. The privacy notice's text is shared with /privacy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import SQLModel

import bot.storage.tables  # noqa: F401  (registers every table in SQLModel.metadata)
from bot.domain.policy import PolicyPack
from bot.domain.privacy import LAWFUL_BASES, PURPOSES, SUBJECTS, processors, retention_rows

CHATS = {"slack": "Slack", "teams": "Microsoft Teams", "console": "terminal chat on the server"}
UNDESCRIBED = "NOT DESCRIBED YET: add it to TABLES in bot/records/dpia.py"
# What each table holds and why, in a DPO's words. A table missing here is still listed.
TABLES = {
    "case": "One row per report or request: who reported it, the answers (which may name "
    "pupils, parents or staff), the owning team, status, outcome, legal hold and disposal.",
    "case_task": "Follow-up tasks a case opens (e.g. tell the LADO within one working day).",
    "evidence": "Files sent with a report: name, type, size and SHA-256; the bytes are in the "
    "evidence store (the evidence_blob table or the evidence folder), named by their hash.",
    "evidence_blob": "The bytes of evidence files when they are kept in the database (the "
    "default with PostgreSQL): one row per file, named by its SHA-256, encrypted at rest "
    "when EVIDENCE_KEYS is set; deleted when no case or conversation uses the file.",
    "audit_event": "The append-only record of who did what and when; free text in it is "
    "removed when its record is disposed of.",
    "dialog_state": "A conversation in progress: the answers given so far, until it is "
    "finished, cancelled or abandoned.",
    "accepted_request": "A chat request accepted but not yet fully handled, so a crash loses "
    "nothing; its payload may hold message text and files until it is done.",
    "outbox": "Messages and emails waiting to be sent, and the record of what was sent.",
    "role_assignment": "Who holds which role (chat account id), who gave it, and an optional "
    "email address for urgent alerts.",
    "approval": "The approval stages of an official account request.",
    "approval_decision": "Each approver's decision and reason.",
    "official_account": "The register of the school's official social media accounts: name, "
    "purpose, author, moderators and the staff the bot nudges about comments.",
    "comment": "Comments on official accounts waiting for a reply: the text (which may name "
    "a parent or pupil), who logged it and when it was answered.",
    "reminder": "Scheduled nudges, escalations and yearly reminders.",
    "conversation_ref": "Where the chat service can reach a person or channel later.",
    "teams_school": "Which school each Microsoft Teams team or channel belongs to (team and "
    "channel ids, a school number, who linked it and when); no personal data beyond the "
    "account of the IT lead who linked it.",
    "inbox_cursor": "How far a terminal user has read their team's alerts.",
    "processed_delivery": "Ids of chat deliveries already handled (kept a week), so a "
    "retried delivery is not handled twice.",
    "web_sign_in": "One-time sign-in links to the web workspace (only their SHA-256 hash).",
    "web_session": "Signed-in browsers (only the SHA-256 of the session token).",
    "disposal": "The disposal log: which record was disposed of, when, under which rule.",
    "policy_read": "Who confirmed reading the yearly policy reminder, and when.",
    "counter": "Counters for case reference numbers, per school; no personal data.",
    "school": "The schools of the trust this install serves: a short key, name, policy pack, "
    "timezone and calendar; no personal data. Every table above that holds a school's "
    "records marks each row with its school (`school_id`), and on PostgreSQL the database "
    "itself hides one school's rows from another's work (row-level security).",
    "daily_run": "When each once-a-day job (the retention sweep) and the yearly reminder "
    "ran, which instance ran it (a random id) and how many items it did, so several "
    "instances run each once; no personal data.",
    "slack_installation": "Each school's Slack install: the workspace or organisation id and "
    "name, the bot's ids, the Slack member id of the person who installed it, and its access "
    "tokens, encrypted with SLACK_TOKEN_KEYS and bound to the school; whether it is "
    "disconnected, and the school's alert channels.",
    "slack_workspace_school": "Which school each workspace of an Enterprise Grid organisation "
    "belongs to (ids only; no personal data).",
    "slack_oauth_state": "One-time codes for install links, kept ten minutes (no personal data).",
}


@dataclass(frozen=True)
class Risk:
    risk: str
    mitigation: str
    where: str  # the code that does it, so a reviewer can check


RISKS = (
    Risk(
        "A child's details in an alert are seen by staff who should not see them.",
        "Alerts carry only the fields the pack's alert detail level allows; the answers stay "
        "in the case record, which only the owning team can open.",
        "bot/domain/cases.py",
    ),
    Risk(
        "A concern about a member of staff reaches the person it is about.",
        "It goes by direct message to one role's holders, never a channel, and never to a "
        "role the person is said to hold.",
        "bot/features/staff_concerns/rules.py",
    ),
    Risk(
        "Someone without the right role opens a case, a button or a page.",
        "Roles are read again on the server for every button, link and page.",
        "bot/web/access.py",
    ),
    Risk(
        "Someone outside the school, or in another school of the trust, acts through Teams: "
        "another organisation's tenant, or a card button changed to point at another case "
        "or school.",
        "Activities from tenants not on the trust's list are refused before anything is "
        "read or stored; card buttons carry their school and are signed, and are checked "
        "against the team's school and the presser's roles on the server.",
        "bot/platforms/teams/presses.py",
    ),
    Risk(
        "A copy of the database lets someone into the web workspace.",
        "Sign-in links and sessions are stored only as SHA-256 hashes, and expire.",
        "bot/storage/tables.py",
    ),
    Risk(
        "An indecent image of a child is copied onto the server.",
        "Files are refused, unfetched, when a report suggests a sexual image of a child.",
        "bot/dialogs/safeguarding.py",
    ),
    Risk(
        "An evidence file is changed and passed off as the original.",
        "Each file is named by its SHA-256 and hashed again whenever it is opened.",
        "bot/web/casefile.py",
    ),
    Risk(
        "Records are kept longer than the schedule allows.",
        "A daily sweep disposes of records when due, logs each disposal and respects legal holds.",
        "bot/records/retention.py",
    ),
    Risk(
        "The record of who did what is altered afterwards.",
        "The audit trail is append-only: the database refuses changes except the disposal "
        "of free text.",
        "bot/storage/migrations/versions",
    ),
    Risk(
        "One school of a trust sees another school's cases or people.",
        "Every row carries its school; every query is made in one school's session and "
        "filtered by it, and on PostgreSQL row-level security hides other schools' rows "
        "from the application's database role. Trust-wide work is recorded in the audit trail.",
        "bot/storage/scoping.py",
    ),
    Risk(
        "Names or message text end up in log files.",
        "Logs carry references and counts only; library logs are redacted.",
        "bot/observability",
    ),
    Risk(
        "The governors' report lets someone work out who a case is about.",
        "Small counts are suppressed.",
        "bot/records/governors_counts.py",
    ),
    Risk(
        "A subject access export discloses other people's information.",
        "Names the bot knows are redacted; free text goes to the DPO to review first; a "
        "safeguarding record about a child is withheld with the exemption named.",
        "bot/records/subject_access.py",
    ),
    Risk(
        "Other users of the server read evidence or exports.",
        "Evidence files and exports are written 0600 in folders of 0700; evidence kept in "
        "the database is encrypted at rest with EVIDENCE_KEYS like the files.",
        "bot/kernel/evidence_folder.py",
    ),
    Risk(
        "An urgent report is lost, or nobody picks it up.",
        "Messages are written to the outbox with the change they announce; unacknowledged "
        "urgent cases escalate up the pack's ladder, by email too.",
        "bot/features/cases/reminders.py",
    ),
    Risk(
        "Copies stay in Slack or Teams after the bot disposes of a record.",
        "The privacy notice says the chat service keeps them under the retention the school "
        "sets there. The school must set it in its Slack workspace or Microsoft 365 tenant: "
        "a residual risk until it does.",
        "bot/domain/privacy.py",
    ),
    Risk(
        "A stolen disk or backup exposes the database and evidence.",
        "The data folder is 0700 and its files 0600; the setup guide asks for backups that "
        "are encrypted and off the server. Encryption of the disk and of the database "
        "connection is the host's: the school must confirm how its host does this.",
        "bot/config.py",
    ),
)


def _flows(services: Sequence[str]) -> list[str]:
    chat = " / ".join(
        name for key, name in (("slack", "Slack"), ("teams", "Microsoft Teams")) if key in services
    )
    lines = [
        "```mermaid",
        "flowchart LR",
        "  staff([Staff]) -->|reports, answers, evidence files| chat",
        f"  chat[{chat or 'Terminal chat'}] -->|HTTPS| bot[schoolbot on the host]",
        "  bot -->|alerts and replies| chat",
        "  bot --> db[(Database)]",
        "  bot --> files[(Evidence store)]",
        "  handlers([DSL, SLT, role holders]) -->|one-time sign-in link| web[Web workspace]",
        "  web --> bot",
        "  handlers -->|case bundle, when a referral is needed| out([LADO, police, "
        "children's social care])",
        "  accounts([Official account comments]) -->|webhook| bot",
        "  bot -->|counts only| governors([Governors' report])",
        "  bot -->|subject access export, for review| dpo([DPO])",
    ]
    if "email" in services:
        lines.append("  bot -->|urgent alert emails| email[Email provider]")
    return [*lines, "```"]


def _tables() -> list[str]:
    lines: list[str] = []
    for table in sorted(SQLModel.metadata.tables.values(), key=lambda t: t.name):
        lines += [f"### `{table.name}`", "", TABLES.get(table.name, UNDESCRIBED), ""]
        lines += ["| Field | Type |", "| --- | --- |"]
        lines += [f"| `{c.name}` | {c.type} |" for c in table.columns]
        lines.append("")
    return lines


def render(
    pack: PolicyPack,
    *,
    services: Sequence[str],
    database: str,
    evidence_store: str,
    today: date,
) -> str:
    """The draft, as Markdown; `database` names the kind and place, never a password."""
    school = pack.school.name
    lines = [
        f"# Data protection impact assessment (draft): schoolbot at {school}",
        "",
        f"Written by `schoolbot records dpia` on {today:%-d %B %Y} from this installation's "
        "settings and policy pack. It is a draft for the Data Protection Officer to check, "
        "complete and sign; the parts marked TO COMPLETE are for the school.",
        "",
        "## 1. This installation",
        "",
        "| Setting | Value |",
        "| --- | --- |",
        f"| School | {school} |",
        f"| Data Protection Officer | "
        f"{pack.school.dpo_contact if pack.school.dpo_known else 'TO COMPLETE'} |",
        f"| Host | {pack.school.host or 'TO COMPLETE: who runs the server, and where'} |",
        f"| Chat services | {', '.join(CHATS.get(s, s) for s in services if s != 'email')} |",
        f"| Alert emails | {'on' if 'email' in services else 'off'} |",
        f"| Database | {database} |",
        f"| Evidence files kept in | {evidence_store} |",
        "",
        "## 2. Why the processing is needed",
        "",
        *(f"- {p}" for p in PURPOSES),
        "",
        "Lawful bases:",
        "",
        *(f"- {b}" for b in LAWFUL_BASES),
        "",
        "People whose information is processed:",
        "",
        *(f"- {s}" for s in SUBJECTS),
        "",
        "## 3. Data flows",
        "",
        *_flows(services),
        "",
        "## 4. Processors and transfers",
        "",
        *(f"- {p}" for p in processors(pack, services)),
        "",
        "## 5. What is stored: every table and field",
        "",
        *_tables(),
        "## 6. Retention",
        "",
        "| Record | Kept for |",
        "| --- | --- |",
        *(f"| {record} | {period} |" for record, period in retention_rows(pack)),
        "",
        "## 7. Risks and how the code reduces them",
        "",
        "| Risk | Mitigation | Where in the code |",
        "| --- | --- | --- |",
        *(f"| {r.risk} | {r.mitigation} | `{r.where}` |" for r in RISKS),
        "",
        "## 8. Consultation and sign-off",
        "",
        "- DPO's advice: TO COMPLETE",
        "- Residual risks accepted by: TO COMPLETE (name, role, date)",
        "- Next review: TO COMPLETE (at least yearly, and whenever the bot changes)",
        "",
    ]
    return "\n".join(lines)
