"""A subject access export as files: the zip for the person (after the DPO's review) and
the DPO's "review before release" file, both written 0600 (records/subject_access.py
gathers what goes in them)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.domain.privacy import DEFAULT_SERVICES, as_text, notice
from bot.kernel.core import Kernel
from bot.records.subject_access import REDACTED, gather
from bot.records.subject_access_review import render
from bot.storage.scoping import SchoolSession


def _day(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%-d %B %Y")


def summary_text(data: dict[str, Any], school: str, made: str) -> str:
    person = data["person"]
    lines = [
        f"What {school}'s schoolbot holds about {person['user_id']} ({person['platform']})",
        f"Made {made} for a subject access request.",
        "",
        f"Reports you made: {len(data['reports_made'])}",
        *(
            f"  {c['reference']} ({c['kind']}), opened {_day(c['opened'])}, "
            f"{c['status'].replace('_', ' ')}"
            for c in data["reports_made"]
        ),
        f"Reports by other people that name you: {len(data['reports_about_you'])}",
        *(
            f"  {c['reference']} ({c['kind']}), opened {_day(c['opened'])}: "
            f"{c['how_it_concerns_you']}"
            for c in data["reports_about_you"]
        ),
        f"Messages schoolbot sent you: {len(data['messages_to_you'])}",
        f"A conversation in progress: {'yes' if data['conversation_in_progress'] else 'no'}",
        f"Roles: {', '.join(r['role'] for r in data['roles']) or 'none'}",
        "Email address for alerts: "
        + (", ".join(sorted({r["email"] for r in data["roles"] if r["email"]})) or "none"),
        f"Actions you took: {len(data['actions_taken'])}",
        f"Other entries in the audit trail about you or your reports: "
        f"{len(data['audit_entries_about_you'])}",
        f"Approval decisions: {len(data['approval_decisions'])}",
        f"Comments you logged or closed: {len(data['comments_logged_or_closed'])}",
        f"Official accounts you are a contact for: {len(data['accounts_you_are_a_contact_for'])}",
        f"Web workspace sessions: {len(data['web_sessions'])}",
        "Yearly policy reminders you confirmed reading: "
        + (", ".join(str(r["year"]) for r in data["policy_read_confirmations"]) or "none"),
        "",
        f"Names and ids of other people that schoolbot knows are shown as {REDACTED}.",
        "Written words that may name other people were checked by the Data Protection "
        'Officer before this was sent; any not given are marked "held for the DPO\'s review". '
        'Parts of safeguarding records about a child are marked "withheld".',
        (
            "Files you sent as evidence are in the evidence folder."
            if any(
                f.get("included")
                for c in data["reports_made"]
                for f in (c.get("evidence") or [])
                if isinstance(f, dict)
            )
            else "You sent no files as evidence that are still kept."
        ),
        "Everything is in person.json, with times in UTC; your-rights.txt says what these "
        "records are for, who receives them, how long they are kept and your rights.",
    ]
    return "\n".join(lines) + "\n"


def rights_text(kernel: Kernel, services: Sequence[str]) -> str:
    """The Article 15 information, from the pack: the same words as the privacy notice."""
    return (
        "Your right of access (UK GDPR Article 15)\n\n"
        "This is what schoolbot's records are for, the law that allows them, who receives "
        "them, how long they are kept, where the information came from and your rights.\n\n"
        + as_text(notice(kernel.pack, services))
    )


@dataclass(frozen=True)
class Built:
    archive: bytes  # for the person, once the DPO has reviewed it
    review: str  # for the DPO only
    records: int


def build(
    session: SchoolSession,
    kernel: Kernel,
    platform: str,
    user_id: str,
    made: str,
    *,
    also_known_as: Sequence[str] = (),
    services: Sequence[str] = DEFAULT_SERVICES,
) -> Built:
    """The export zip and the DPO's review file; `made` is when, in words."""
    found = gather(
        session,
        platform,
        user_id,
        kernel.platform_names,
        kernel.registry,
        also_known_as=also_known_as,
        store=kernel.evidence,
    )
    data, school = found.data, kernel.pack.school.name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("summary.txt", summary_text(data, school, made))
        archive.writestr("person.json", json.dumps(data, indent=2, ensure_ascii=False))
        archive.writestr("your-rights.txt", rights_text(kernel, services))
        for name, content in found.files:
            archive.writestr(name, content)
    count = sum(len(v) for v in data.values() if isinstance(v, list))
    review = render(found.review, f"{user_id} ({platform})", school, made)
    return Built(buffer.getvalue(), review, count)


def export_zip(
    session: SchoolSession, kernel: Kernel, platform: str, user_id: str, made: str
) -> tuple[bytes, int]:
    """The zip's bytes and how many records it holds (see `build` for the review file)."""
    built = build(session, kernel, platform, user_id, made)
    return built.archive, built.records


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read (0600), even where it existed before."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(data)


def review_path(archive: Path) -> Path:
    """Where the DPO's review file goes: next to the zip, named after it."""
    return archive.with_name(f"{archive.stem}-review-before-release.txt")
