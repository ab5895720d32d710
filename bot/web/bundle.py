"""The case bundle a DSL hands on with a referral: one zip, checkable by anyone.

It holds a PDF to read (cover sheet, answers, chronology, guidance, evidence list with
hashes), a JSON of the same record for systems, the evidence files themselves, and a
manifest of SHA-256s over every other file in the zip so the receiver can check nothing
was changed on the way.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Generator, Iterator
from datetime import UTC
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.records.printing import Document
from bot.web.casefile import CaseFile, iso_time, local_time

if TYPE_CHECKING:
    from bot.kernel.core import Kernel

# Marked on every page: this goes to children's social care, the LADO or the police.
MARKING = "OFFICIAL-SENSITIVE: safeguarding record, confidential"


class _Report(Document):
    def heading(self, text: str) -> None:
        self.ln(3)
        self.write_line(text, 13, bold=True, height=7)

    def line_of(self, label: str, value: str) -> None:
        self.write_line(label, bold=True)
        self.write_line(value or "-")
        self.ln(1)


def case_pdf(school: str, record: CaseFile, made_at: str) -> bytes:
    """The record to read: every page marked and numbered, every name as it was given."""
    pdf = _Report(title=f"{record.ref} case record, {school}", author=school, marking=MARKING)
    pdf.add_page()
    pdf.write_line(f"{record.ref}: {record.kind}", 18, bold=True, height=9)
    pdf.write_line(f"{school}. Confidential: for the people this is handed to, and no one else.")
    pdf.heading("Cover sheet")
    for label, value in (
        ("School", school),
        ("Reference", record.ref),
        ("Category", record.kind + (" (urgent)" if record.urgent else "")),
        ("Owning team", record.team),
        ("Reported by", record.reporter),
        ("Reported on", record.opened),
        ("Status", record.status),
        ("Closed on", record.closed or "Still open"),
        ("Outcome", record.outcome or "-"),
        ("This bundle made", made_at),
    ):
        pdf.line_of(label, value)
    if record.hold:
        pdf.line_of("Legal hold", record.hold)
    if record.tombstone:
        pdf.line_of("Disposed of", record.tombstone)
    pdf.heading("The answers given")
    for label, value in record.answers:
        pdf.line_of(label, value)
    if record.flags:
        pdf.line_of("Flags", ", ".join(record.flags))
    pdf.heading("Guidance given, and the policy behind it")
    for said, reference in record.guidance:
        pdf.line_of(reference or "Not numbered in this school's policy", said)
    if record.tasks:
        pdf.heading("Follow-up tasks")
        for title, due, state in record.tasks:
            pdf.line_of(title, f"Due {due}. {state}.")
    pdf.heading("Chronology")
    for event in record.chronology:
        text = f"{event.what}, by {event.who}" + (f": {event.detail}" if event.detail else "")
        pdf.line_of(event.at, text)
    pdf.heading("Evidence")
    if not record.evidence:
        pdf.line_of("Files", "None")
    for item in record.evidence:
        pdf.line_of(
            item.filename,
            f"{item.kind}, {item.size_words}, added by {item.added_by} on {item.added_at}.\n"
            f"SHA-256: {item.sha256}"
            + ("" if item.intact else "\nWARNING: the stored file does not match this hash."),
        )
    return bytes(pdf.output())


CHUNK = 256 * 1024  # read from disk, compressed and sent at a time


class _Outgoing(io.RawIOBase):
    """Where the zip is written: what it holds is taken and sent, a piece at a time. Not
    seekable, so the zip gives each file's sizes and CRC after it (a data descriptor)."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


Stamp = tuple[int, int, int, int, int, int]


def _members(
    kernel: Kernel, record: CaseFile, stamp: Stamp
) -> Iterator[tuple[zipfile.ZipInfo, Iterator[bytes]]]:
    """Each file of the bundle, in order, with its bytes as they are read."""
    now = kernel.now().astimezone(UTC)
    made_at = local_time(kernel.pack, now)
    school = kernel.pack.school.name
    record_json = {
        "school": school,
        "made_at": iso_time(kernel.pack, now),
        "made_at_display": made_at,
        "case": record.to_json(),
    }
    yield _info(f"{record.ref}.pdf", stamp), iter([case_pdf(school, record, made_at)])
    yield (
        _info(f"{record.ref}.json", stamp),
        iter([json.dumps(record_json, indent=2, ensure_ascii=False).encode("utf-8")]),
    )
    for item in record.evidence:
        if item.intact:
            safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in item.filename)
            # Photos, videos and PDFs are compressed already: stored as they are.
            data = _read(kernel, item.sha256)
            yield _info(f"evidence/{item.id:03d}-{safe}", stamp, stored=True), data


def _info(name: str, stamp: Stamp, *, stored: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    return info


def _read(kernel: Kernel, sha256: str) -> Iterator[bytes]:
    """The original bytes (decrypted when the file is encrypted at rest), a piece at a time."""
    data = kernel.evidence.read(sha256)
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def bundle_chunks(kernel: Kernel, record: CaseFile) -> Generator[bytes, None, None]:
    """The zip, as pieces to send in turn: PDF, JSON, evidence files, and last a SHA-256
    manifest of them all, hashed as they go by. Each step holds one piece, never the zip."""
    out = _Outgoing()
    digests: dict[str, str] = {}
    moment = kernel.now().astimezone(ZoneInfo(kernel.pack.calendar.timezone))
    stamp: Stamp = (
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    )
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, pieces in _members(kernel, record, stamp):
            digest = hashlib.sha256()
            with archive.open(info, "w") as entry:
                for piece in pieces:
                    digest.update(piece)
                    entry.write(piece)
                    if ready := out.take():
                        yield ready
            digests[info.filename] = digest.hexdigest()
        manifest = "".join(f"{digests[name]}  {name}\n" for name in sorted(digests))
        archive.writestr(_info("MANIFEST.sha256", stamp), manifest)
    yield out.take()


def build_bundle(kernel: Kernel, record: CaseFile) -> bytes:
    """The same zip whole, in memory: for checking it, and the benchmark's baseline."""
    return b"".join(bundle_chunks(kernel, record))
