"""The clause reference: what the bot does for each clause ID, and where each pack has it.

`docs/policy-clauses.md` is written from here and from the bundled packs by
`schoolbot policy clauses --write docs/policy-clauses.md`; a test fails when it is stale.
When you add an ID to KNOWN_CLAUSES, say here what the bot does for it. Any mapped clause
can also carry a rule in the school's words (`[rules]`), which answers questions about it.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.policy import KNOWN_CLAUSES, NATIONAL_GUIDANCE, PolicyPack

GROUPS = {
    "FR": "Friend and follow requests to a personal account",
    "CB": "Cyberbullying and online abuse",
    "SG": "Safeguarding: danger, harm types and concerns about staff",
    "AC": "New official accounts",
    "MO": "Comments on official accounts",
    "X": "Across every conversation",
}

WHAT_THE_BOT_DOES = {
    "FR-DECLINE": (
        "Tells staff to decline a request from someone the pack puts off-limits, without "
        "replying, and to remove the connection if they already accepted. Every pack must "
        "have it; friend-request advice with no more specific clause cites it."
    ),
    "FR-DSL": (
        "When `tell_dsl_about_pupil_requests` is on, opens a routine case for the DSL team "
        "when the sender is a child or staff already accepted, and asks staff to talk it "
        "through with the DSL; worrying messages make it urgent."
    ),
    "FR-REDIRECT": (
        "Suggests pointing a pupil (never a parent or another young person) to the school's "
        "official account named in `[school] official_account`."
    ),
    "FR-FAMILY": (
        "Asks whether the sender is family; with `family_exception` on, gives the family "
        "advice (accept with care) instead of declining."
    ),
    "FR-ANY-SCHOOL": (
        "With `any_school = true`, treats young people at any school, and former pupils who "
        "may still be under 18, as off-limits too."
    ),
    "FR-EXPUPIL-KJS": (
        "Former pupils stay off-limits for `years` after leaving or until `age`, whichever "
        "is later; the advice gives the first date contact is allowed."
    ),
    "FR-EXPUPIL-U18": (
        "Former pupils stay off-limits until they turn `age`; the advice gives the first "
        "date contact is allowed."
    ),
    "FR-PARENT": (
        'With `parents = "forbidden"`, declines requests from a pupil\'s parent or carer, '
        "says to keep contact to `[school] official_account` if the pack names one, and who to "
        "talk to if unsure."
    ),
    "FR-PARENT-CONFLICT": (
        'With `parents = "conflict_of_interest"`, a parent\'s request is a judgement call: '
        "accept only if it creates no conflict of interest."
    ),
    "FR-ASK-IT": (
        "For parents and family, adds who to ask when unsure (`unsure_contact`, for example "
        "the Director of IT)."
    ),
    "CB-NO-ENGAGE": "Tells staff not to reply to or engage with the posts.",
    "CB-EVIDENCE": (
        "Tells staff to keep everything and screenshot anything new; the report collects "
        "files (each with its SHA-256), the link and when it was posted."
    ),
    "CB-REPORT-SENIOR": (
        "Sends the report to the SLT team. Every pack must have it. Without CB-SAFEGUARD, "
        "a report about a pupil still goes to the DSL team, citing the national guidance."
    ),
    "CB-SAFEGUARD": (
        "A report about a pupil, or one that raises a safeguarding concern, goes to the DSL "
        "team as urgent."
    ),
    "CB-REMOVAL-24H": (
        "Adds a follow-up task due in 24 hours: ask the site to remove the material, then "
        "check it has gone; the team is reminded when it falls due."
    ),
    "CB-POLICE": (
        "For threatening material, records the police question on the case; with the staff "
        "member's consent the case is flagged for the police with a same-day task to report "
        'it. With `[safeguarding] police_without_consent`, a "no" is told that illegal '
        "conduct is still reported. A threat to a pupil: the DSL decides."
    ),
    "CB-PUPIL-AUTHOR": (
        "When a pupil posted it (or may have), flags the case for the behaviour policy and says so."
    ),
    "CB-SUPPORT": (
        "When staff are the target, says the school will offer support and counselling, and "
        "adds a task to offer it within two days."
    ),
    "CB-BLOCK": (
        "Tells staff they can block and report the account on the platform; in an abuse "
        "report, only when the abuse is aimed at them."
    ),
    "SG-DANGER": (
        "Any report that may involve a child asks early whether a child is in danger right "
        "now. If so, it tells the member of staff to call 999 if someone is at risk now and to "
        "go to the DSL in person, and sends an urgent alert mentioning every DSL and deputy "
        "before asking the rest; the later answers join the same case."
    ),
    "SG-NUDES": (
        "Nude or semi-nude images of anyone under 18: the bot never asks for, accepts or keeps "
        "them. It tells staff not to view, copy, print, share, save, forward or delete the "
        "image, not to ask the child to send it, and to go to the DSL now; it sends an urgent "
        "alert, and the DSL's case page shows the UKCIS steps."
    ),
    "SG-HARM-TYPES": (
        "A report about a pupil asks what it involves: bullying or abuse, threats, nude or "
        "semi-nude images, sexual contact or grooming by an adult, self-harm or suicide "
        "content, extremist content, or something else. Each answer has its own guidance, "
        "and the report goes to the DSL team."
    ),
    "SG-ALLEGATION": (
        "A concern that a colleague may have harmed a child or may pose a risk goes to the "
        "first role in `[safeguarding] allegation_to` the person concerned does not hold (the "
        "Headteacher, or the chair of governors when it is about the Headteacher), never to a "
        "team channel. The person concerned never sees it. Adds a task to speak to the LADO, "
        "due within one working day."
    ),
    "SG-LOW-LEVEL": (
        "Conduct that falls short of the harm threshold (a low-level concern), or a breach of "
        "the social media policy, goes to the Headteacher or the DSL, as the pack's "
        "`[safeguarding] low_level_to` says."
    ),
    "SG-SELF-REPORT": (
        'A member of staff reporting their own post ("I posted something I regret") is told '
        "to delete it and tell their line manager, and their report goes privately to "
        "`[safeguarding] self_report_to` as a self-report."
    ),
    "SG-UNFINISHED": (
        "An unfinished report reminds its reporter after `[safeguarding] "
        "unfinished_reminder_minutes` (30 by default) and again the next working morning; one "
        "about a child reaches the DSL team after `unfinished_to_dsl_hours` working hours (1 by "
        "default). Nothing unfinished is deleted without a line in the disposal log."
    ),
    "AC-CASE": (
        "Asks for the business case (`required_fields`) and refuses fewer named staff than "
        "`min_named_staff`."
    ),
    "AC-FORM-DA": (
        "The extra request-form fields a pack turns on, with at least two administrators and "
        "two moderators."
    ),
    "AC-APPROVE-ONE": (
        "One approval stage: the request waits for Approve or Reject from a holder of that role."
    ),
    "AC-APPROVE-CHAIN": (
        "Several approval stages, decided in the pack's order; each stage needs its own role."
    ),
    "AC-TRAINED": (
        "Asks whether each named person has read the policy and been trained, and tells the "
        "approver who has not."
    ),
    "AC-REGISTER": (
        "Approved accounts go on the register (`schoolbot accounts list`, exported as the "
        "record sheet with `schoolbot accounts export`)."
    ),
    "AC-LEAVER": (
        "When the lead leaves, `schoolbot accounts transfer` hands the account on and "
        "`schoolbot accounts close` closes it; both are audited."
    ),
    "AC-AGE": (
        "Asks whether the audience is old enough for the platform and warns the approver when "
        "it is not."
    ),
    "MO-24H": (
        "Each logged comment gets a reply deadline from the pack's `[comments]` and "
        "`[calendar]`; its contacts are nudged before it, and SLT hear when it passes."
    ),
    "MO-REGULAR": (
        "Recorded for the pack's section number; the nudges that keep accounts watched come "
        "from MO-24H."
    ),
    "MO-OFFENSIVE": "An offensive comment goes to SLT at once, with advice to hide it and keep a screenshot.",
    "MO-PARENT": (
        "For an offensive comment from a parent: ask them privately to remove it, invite them "
        "to talk, and point them to the complaints procedure."
    ),
    "MO-COMPLAINT": (
        "A comment marked as a complaint goes to SLT at once and is handled under the "
        "Complaints Policy; the moderators, the one who logged it included, are told the "
        "reply must be agreed by the head."
    ),
    "MO-JOURNALIST": "A comment from the press goes to SLT at once; SLT decide the reply.",
    "X-CONFIDENTIAL": (
        "Alerts show only what the pack's `[alerts] detail` allows; case details are for the "
        "owning team, and staff see only their own cases."
    ),
    "X-RECORD": (
        "Keeps an append-only audit trail. Each record has a retention class; the pack's "
        "`[records.retention]` periods may not go below the floors national guidance sets. "
        "The DSL or the DPO gets a review list before any disposal; records marked for "
        "review wait for a person's decision; the rest are disposed of by a daily sweep "
        "(legal holds excepted), each in an append-only disposal log with who authorised it."
    ),
    "X-ANNUAL": (
        "Once a year, in `[records] annual_reminder_month`, reminds everyone the bot knows to "
        "re-read the policy."
    ),
    "X-PHOTOS": (
        "Answers a question about pictures of pupils on personal accounts with the pack's "
        "`[rules]` text, and offers the self-report."
    ),
    "X-VIEWS": (
        "Answers a question about personal views and speaking for the school with the pack's "
        "`[rules]` text."
    ),
    "X-LOGOS": (
        "Answers a question about the school's name, information or logo on personal accounts "
        "with the pack's `[rules]` text."
    ),
    "X-PRIVACY": (
        "Answers a question about privacy settings or a hacked personal account with the "
        "pack's `[rules]` text, and offers the fake-account report if someone is posting as them."
    ),
    "X-JOURNALIST-STAFF": (
        "Answers a question about a journalist contacting staff with the pack's `[rules]` text, "
        "and offers to log it for SLT."
    ),
    "X-BREACH": (
        "Answers a question about breaking the policy with the pack's `[rules]` text, and "
        "offers the private concern (or self-report)."
    ),
}

NOT_APPLIED = "not applied"


def render_reference(packs: Mapping[str, PolicyPack]) -> str:
    """The Markdown of docs/policy-clauses.md for these packs (name -> pack), in order."""
    missing = sorted(KNOWN_CLAUSES - WHAT_THE_BOT_DOES.keys())
    extra = sorted(WHAT_THE_BOT_DOES.keys() - KNOWN_CLAUSES)
    if missing or extra:
        raise ValueError(
            f"bot/domain/clauses.py is out of step with KNOWN_CLAUSES: missing {missing}, "
            f"not known {extra}"
        )
    names = list(packs)
    lines = [
        "# Policy clauses the bot acts on",
        "",
        "<!-- Written by `schoolbot policy clauses --write docs/policy-clauses.md` from",
        "bot/domain/clauses.py and the packs in bot/policies/. Edit those, not this file. -->",
        "",
        "Each piece of advice the bot gives, and each route it takes, belongs to a clause with a",
        "stable ID. A pack's `[clauses]` table maps the ID to the section of that school's own",
        'policy, so the advice can say "(Policy 5.4)". Where the school\'s policy is silent, the',
        "pack can name the national guidance instead: a value starting with "
        + ", ".join(f"`{n}`" for n in NATIONAL_GUIDANCE[:-1])
        + f" or `{NATIONAL_GUIDANCE[-1]}`",
        'is cited as written, e.g. "(KCSIE 2025 Part 1)". A clause the pack leaves out is not',
        "applied: the bot gives no advice it cannot cite. The columns show the section each",
        "bundled pack gives; *" + NOT_APPLIED + "* means that pack leaves the clause out.",
        "",
        "| Pack | School |",
        "|---|---|",
        *(f"| `{name}` | {packs[name].school.name} |" for name in names),
    ]
    for prefix, title in GROUPS.items():
        ids = [c for c in WHAT_THE_BOT_DOES if c.split("-")[0] == prefix]
        lines += [
            "",
            f"## {title}",
            "",
            "| ID | What the bot does | " + " | ".join(f"`{n}`" for n in names) + " |",
            "|---|---|" + "---|" * len(names),
        ]
        for clause in ids:
            sections = (
                packs[n].clauses.get(clause, f"*{NOT_APPLIED}*").replace("|", "\\|") for n in names
            )
            lines.append(
                f"| {clause} | {WHAT_THE_BOT_DOES[clause]} | " + " | ".join(sections) + " |"
            )
    return "\n".join(lines) + "\n"
