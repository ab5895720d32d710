"""Issue 24 point 4: a true subject access export, on a database filled through the bot's own
conversations and buttons, made with `schoolbot records export-person`.

Tess, a teacher, reported abuse aimed at herself (with a screenshot) and abuse of a pupil;
a colleague reported abuse aimed at Tess. Other people's words carry MARKER, and must reach
the DPO's review file, never the zip, and never be called redacted.
"""

from __future__ import annotations

import json
import re
import stat
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.domain.retention import rules
from bot.domain.turns import ButtonPress, StaffMessage
from bot.features.cases import cards
from tests.fakes.workspace_harness import tiny_png
from tests.helpers import grant, make_service, tell

TESS = "Tess Jones"
HEAD = "MARKER-HEAD-NAME"
CARA = "MARKER-CARA-NAME"


def _cb(service, user: str, name: str, *answers: str) -> str:
    reply = tell(service, user, name, "I want to report cyberbullying", *answers)
    match = re.search(r"CB-\d{4}", reply)
    assert match, reply
    return match.group(0)


@pytest.fixture
def school(database_url, clock, tmp_path):
    service = make_service(database_url, "default", clock, tmp_path / "evidence")
    grant(service, "hal", "slt")
    grant(service, "dina", "dsl")
    # 1. Abuse aimed at Tess, reported by Tess, with a screenshot; SLT handle and close it.
    tell(service, "tess", TESS, "I want to report cyberbullying", "me", "facebook",
         "https://facebook.example/p/1", "yesterday 8pm",
         "TESS-WORDS a parent MARKER-PARENT says I failed her son")  # fmt: skip
    shot = service.kernel.store_evidence("shot.png", "image/png", tiny_png())
    service.receive(StaffMessage("console", "tess", "", files=[shot], name=TESS))
    own = re.search(r"CB-\d{4}", tell(service, "tess", TESS, "done", "no", "no", "no"))
    assert own
    mine = own.group(0)

    def press(user: str, name: str, action: str, ref: str, *value: str) -> None:
        service.press(ButtonPress("console", user, action, ref, *value, name=name))

    press("hal", HEAD, cards.CASE_ACK, mine)
    press("hal", HEAD, cards.CASE_NOTE, mine, "MARKER-HEAD-NOTE spoke to the parent")
    service.press(
        ButtonPress(
            "console", "hal", cards.CASE_CLOSE, mine, "TESS-OUTCOME posts removed",
            message="TESS-MESSAGE the post is gone, Tess", name=HEAD,
        )
    )  # fmt: skip
    # 2. A colleague reports abuse aimed at Tess.
    about = _cb(service, "cara", CARA, "a colleague", TESS, "instagram", "no link",
                "yesterday", "MARKER-CARA-WORDS a parent is posting about Tess Jones",
                "done", "no", "no", "no")  # fmt: skip
    # 3. Tess reports abuse of a pupil: a safeguarding record about a child.
    child = _cb(service, "tess", TESS, "a pupil", "no", "bullying or abuse", "snapchat",
                "no link", "yesterday", "TESS-CHILD-WORDS Year 8 pupil MARKER-PUPIL is "
                "being called names", "done", "no", "no")  # fmt: skip
    press("dina", "MARKER-DINA-NAME", cards.CASE_ACK, child)
    press("dina", "MARKER-DINA-NAME", cards.CASE_NOTE, child,
          "MARKER-PUPIL-NOTE CP plan; Police ref CAD 4521/07DEC")  # fmt: skip
    return service, database_url, {"mine": mine, "about": about, "child": child, "shot": shot}


def _export(url: str, out: Path, user: str, *extra: str) -> tuple[dict[str, bytes], str]:
    result = CliRunner().invoke(
        main,
        ["records", "export-person", "--platform", "console", "--user", user, "-o", str(out),
         *extra],
        # The evidence folder the fixture's service stored files in.
        env={"DATABASE_URL": url, "SCHOOLBOT_DATA_DIR": str(out.parent.parent)},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    review = out.with_name(f"{out.stem}-review-before-release.txt").read_text("utf-8")
    return files, review


@pytest.mark.issue(24, 4)
def test_4_a_teachers_export_holds_reports_about_her_her_outcome_files_and_article_15(
    school, tmp_path
):
    service, url, refs = school
    out = tmp_path / "sar" / "tess.zip"  # a folder the export makes
    files, review = _export(url, out, "tess")
    data = json.loads(files["person.json"])
    text = "\n".join(v.decode("utf-8", "replace") for v in files.values())

    # The colleague's report of abuse aimed at her is hers too; who reported it is not.
    [about] = data["reports_about_you"]
    assert about["reference"] == refs["about"]
    assert about["how_it_concerns_you"] == "you are named as the person it is about"
    assert "MARKER-CARA-WORDS" in review and "MARKER-CARA-WORDS" not in text
    # Her own case: the outcome and the message to her in full, the note held for review.
    mine = next(r for r in data["reports_made"] if r["reference"] == refs["mine"])
    assert mine["outcome"] == "TESS-OUTCOME posts removed"
    assert mine["message_to_you"] == "TESS-MESSAGE the post is gone, Tess"
    assert any("TESS-MESSAGE" in m["text"] for m in data["messages_to_you"])
    assert "MARKER-HEAD-NOTE" in review and "MARKER-HEAD-NOTE" not in text
    # Her own words may name a parent: held for review, not called redacted.
    assert "MARKER-PARENT" in review and "MARKER-PARENT" not in text
    assert mine["your_answers"]["description"].startswith("[held for the DPO's review: R")
    assert mine["your_answers"]["opening"].startswith("[held for the DPO's review: R")
    assert mine["your_answers"]["target"] == "me"  # a choice: nobody's words
    # Names the bot knows are redacted everywhere, the review file included.
    for name in (HEAD, CARA, "MARKER-DINA-NAME", "cara", "hal", "dina"):
        assert not re.search(rf"(?<!\w){name}(?!\w)", text), name
    assert HEAD not in review and CARA not in review
    # The screenshot she sent is in the zip, byte for byte.
    [item] = mine["evidence"]
    assert files[item["included"]] == tiny_png()
    assert "Files you sent as evidence are in the evidence folder." in files["summary.txt"].decode()
    # The pupil's case: listed, withheld, the exemption named for the DPO.
    child = next(r for r in data["reports_made"] if r["reference"] == refs["child"])
    assert "withheld" in child and "TESS-CHILD-WORDS" not in text + review
    assert "MARKER-PUPIL" not in text + review
    assert f"{refs['child']}: their own report" in review
    assert "Schedule 2 Part 3 paragraph 16" in review
    assert "Schedule 3 Part 4 paragraph 19" in review
    # Article 15 information, from the pack.
    rights = files["your-rights.txt"].decode()
    for words in (
        "Why it is used",
        "Article 6(1)(e)",
        "Article 9(2)(g)",
        "Schedule 1 paragraph 18",
        "the local authority designated officer (LADO)",
        "Where the information comes from",
        "Your rights",
        "Information Commissioner's Office",
        *(f"{r.record}: {r.period}" for r in rules(service.kernel.pack)),
    ):
        assert words in rights, words
    # Only its owner can read what was written.
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.with_name("tess-review-before-release.txt").stat().st_mode) == 0o600
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o700


@pytest.mark.issue(24, 4)
def test_4_a_dsls_export_holds_no_pupils_notes_or_police_reference(school, tmp_path):
    _, url, refs = school
    files, review = _export(url, tmp_path / "sar" / "dina.zip", "dina")
    data = json.loads(files["person.json"])
    text = "\n".join(v.decode("utf-8", "replace") for v in files.values())
    notes = [e for e in data["actions_taken"] if e["action"] == "case.note"]
    assert notes and all(e["about"] == refs["child"] for e in notes)
    assert "withheld" in notes[0]["detail"]["note"]
    for secret in ("MARKER-PUPIL-NOTE", "4521", "CP plan"):
        assert secret not in text and secret not in review, secret
    assert refs["child"] in review and "Schedule 2 Part 3 paragraph 16" in review


@pytest.mark.issue(24, 4)
def test_4_a_name_the_dpo_gives_finds_a_report_that_names_her_in_its_words(school, tmp_path):
    service, url, _ = school
    _cb(service, "cara", CARA, "me", "instagram", "no link", "yesterday",
        "MARKER-MORE parents also named Mrs Jones in the thread", "done", "no", "no", "no")  # fmt: skip
    files, _ = _export(url, tmp_path / "sar" / "tess.zip", "tess", "--name", "Mrs Jones")
    found = json.loads(files["person.json"])["reports_about_you"]
    assert {r["how_it_concerns_you"] for r in found} == {
        "you are named as the person it is about",
        "you are named in the report's words",
    }


@pytest.mark.issue(24, 4)
def test_4_police_reference_numbers_are_masked_in_free_text():
    from bot.records.subject_access_review import mask_police

    masked = mask_police("Police ref CAD 4521/07DEC; crime no. 13/998877/26 given to Mum")
    assert "4521" not in masked and "998877" not in masked
    assert masked.count("[police reference withheld]") == 2 and "given to Mum" in masked


@pytest.mark.issue(24, 4)
def test_4_a_concern_raised_about_her_is_for_the_dpo_and_not_in_her_export(school, tmp_path):
    service, url, _ = school
    raised = tell(service, "cara", CARA, "I'm worried about a colleague",
                  "Their conduct falls short of that, or breaks the social media policy",
                  "None of these", TESS, "snapchat", "MARKER-CONCERN-WORDS late posts",
                  "yesterday")  # fmt: skip
    ref = re.search(r"SC-\d{4}", raised)
    assert ref, raised
    files, review = _export(url, tmp_path / "sar" / "tess.zip", "tess")
    text = "\n".join(v.decode("utf-8", "replace") for v in files.values())
    assert ref.group(0) not in text and "MARKER-CONCERN" not in text
    assert f"{ref.group(0)}: a concern raised with one role" in review
    assert "Schedule 2 Part 1 paragraph 2 (crime)" in review
    assert "MARKER-CONCERN" not in review  # named, never copied
