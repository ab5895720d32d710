"""What a report about a pupil involves (SG-HARM-TYPES), and the words that suggest it.

Each category has its own guidance and routing; a nude or semi-nude image of anyone
under 18 changes what the bot may collect at all (SG-NUDES, the UKCIS advice). The words
below only *suggest* a category: the member of staff always confirms it.
"""

from __future__ import annotations

import re

from bot.domain.messages import Choice, Guidance
from bot.domain.policy import PolicyPack

BULLYING = "bullying"
THREATS = "threats"
NUDES = "nudes"
GROOMING = "grooming"
SELF_HARM = "self_harm"
EXTREMISM = "extremism"
OTHER = "other"

HARMS = (
    Choice(BULLYING, "Bullying or abuse"),
    Choice(THREATS, "Threats of violence"),
    Choice(NUDES, "Nude or semi-nude images of someone under 18"),
    Choice(GROOMING, "Sexual contact or grooming by an adult"),
    Choice(SELF_HARM, "Self-harm or suicide"),
    Choice(EXTREMISM, "Extremist content"),
    Choice(OTHER, "Something else"),
)
HARM_LABELS = {c.value: c.label for c in HARMS}
# Categories that always make the alert urgent (danger to a child, or an image that must
# not travel further); bullying is urgent too when it is about a pupil (CB-SAFEGUARD).
URGENT_HARMS = frozenset({THREATS, NUDES, GROOMING, SELF_HARM, EXTREMISM})

# Most specific first: "sending nudes and threatening to share them" is about images.
_SIGNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        NUDES,
        re.compile(
            r"\bnudes?\b|\bsemi[- ]?nudes?\b|\bnaked\b|\bsexting\b|\bexplicit (image|photo|pic|picture|video)s?\b"
            r"|\bindecent (image|photo|pic|picture)s?\b|\b(sending|sent|send|share[sd]?|sharing) (her|him|them)?\s*(pictures|pics|photos) of (her|him)self\b"
            r"|\bsending (pictures|pics)\b|\bdick pics?\b|\btopless\b"
        ),
    ),
    (
        GROOMING,
        re.compile(
            r"\bgroom(ing|ed|er)?\b|\bwants? to meet (her|him|them|up)\b|\bmeet (her|him) (alone|in person|after)\b"
            r"|\b(older|adult|grown) (man|woman|men|guy|person)\b|\bsexual(ly)?\b|\bcse\b"
        ),
    ),
    (
        SELF_HARM,
        re.compile(
            r"\bself[- ]?harm(ing)?\b|\bsuicid(e|al)\b|\bkill (him|her|them)self\b|\bkill myself\b"
            r"|\bhurting (him|her|them)self\b|\bcutting\b|\bend (his|her|their) life\b|\boverdose\b"
        ),
    ),
    (
        THREATS,
        re.compile(
            r"\bstab(bed|bing)?\b|\bkill\b|\bshoot\b|\bknife\b|\bgun\b|\bbeat (her|him|them) up\b"
            r"|\bthreat(en|ened|ening|s)?\b|\bhurt (her|him|them)\b|\bjump (her|him|them)\b"
        ),
    ),
    (
        EXTREMISM,
        re.compile(r"\bextremis[tm]\b|\bradicali[sz]\w*\b|\bterroris[tm]\b|\bnazi\b|\bjihad\w*\b"),
    ),
    (BULLYING, re.compile(r"\bbull(y|ied|ies|ying)\b|\babus\w*\b|\bharass\w*\b|\bnasty\b")),
)
_NEGATED = re.compile(r"\b(not|no|isn't|wasn't|aren't|never)\s+(any\s+)?$")


def suggested_harm(text: str) -> str | None:
    """The category these words point to, most specific first, or None."""
    said = text.lower().replace("’", "'")
    for harm, pattern in _SIGNS:
        for match in pattern.finditer(said):
            if not _NEGATED.search(said[max(0, match.start() - 20) : match.start()]):
                return harm
    return None


_ABOUT_A_CHILD = re.compile(
    r"\b(pupil|student|child|kid|girl|boy|tutee|learner|y(ea)?r ?\d{1,2}|year (seven|eight|nine|ten|eleven|twelve|thirteen)"
    r"|form|tutor group|class|son|daughter|teen(ager)?|under ?18|minor)s?\b"
)


def about_a_child(text: str) -> bool:
    """Do these words mention a child (a pupil, a Year 8 girl, a tutee)?"""
    return bool(_ABOUT_A_CHILD.search(text.lower()))


# --- what staff are told (each line cites the school's clause, or the national guidance) ---

# Where a pack maps no section of its own, safeguarding advice still cites what it rests on.
NATIONAL_SOURCES = {
    "SG-DANGER": "KCSIE 2025 Part one",
    "SG-NUDES": "UKCIS nudes advice 2024",
    "SG-HARM-TYPES": "KCSIE 2025 Part one",
    "SG-ALLEGATION": "KCSIE 2025 Part four",
    "SG-LOW-LEVEL": "KCSIE 2025 Part four",
    "SG-SELF-REPORT": "KCSIE 2025 Part four",
    "SG-UNFINISHED": "KCSIE 2025 Part one",
}


def sg_guidance(pack: PolicyPack, clause: str, text: str) -> Guidance:
    """Safeguarding advice is given whatever the pack says, cited by the school's section
    or, where it has none, by the national guidance."""
    if pack.has(clause):
        return pack.guidance(clause, text)
    return Guidance(clause, f"{text} ({NATIONAL_SOURCES[clause]})")


# The UKCIS steps the DSL's case page shows on a nude-image case (SG-NUDES).
UKCIS_STEPS = (
    "Hold an initial review meeting with appropriate staff (and the pupil's views, where safe).",
    "Talk to the young people involved, if appropriate; don't view the imagery unless it is "
    "unavoidable, and never copy, print, share or store it.",
    "Refer to children's social care and/or the police at once if there is an adult "
    "involved, coercion, blackmail, violence, a child under 13, or the child is at immediate risk.",
    "Tell the parents or carers unless that would put the child at risk.",
    "Help get the images removed (Report Remove with Childline and the IWF, or Take It Down).",
    "Record every decision and its reasons in this case.",
)
NUDE_UPLOAD_REFUSED = (
    "I haven't kept that file, and I won't keep any files on this report: an image of a "
    "child must not be copied, saved or sent on, even to me. Please describe it in words "
    "instead, and go to the safeguarding lead now."
)


def danger_guidance(
    pack: PolicyPack, go_to: str | None = None, *, unsure: bool = False
) -> Guidance:
    """Said the moment a member of staff says a child is in danger now (SG-DANGER).
    `go_to`: whom to go to in person when it isn't the DSL (who may be the person a
    concern is about). `unsure`: they aren't sure, which is treated as possible danger."""
    lead = go_to or f"{pack.role_label(pack.lead_dsl_role)} (or a deputy)"
    if unsure:
        return sg_guidance(
            pack,
            "SG-DANGER",
            "Thank you: not being sure is reason enough. Please go to the "
            f"{lead} in person now, and if anyone may be hurt right now, call 999.",
        )
    return sg_guidance(
        pack,
        "SG-DANGER",
        "If anyone is at risk of harm right now, call 999 first. Then go to the "
        f"{lead} in person, now: don't wait for a reply here.",
    )


def harm_guidance(pack: PolicyPack, harm: str) -> list[Guidance]:
    """What to do (and not do) for each kind of harm to a pupil (SG-HARM-TYPES, SG-NUDES)."""
    lead = pack.role_label(pack.lead_dsl_role)
    if harm == NUDES:
        return [
            sg_guidance(
                pack,
                "SG-NUDES",
                "Don't view, copy, print, share, save or forward the image, and don't delete "
                "it either. Don't ask the pupil (or anyone) to send it to you. Go to the "
                f"{lead} now; they will follow the UKCIS advice.",
            )
        ]
    text = {
        THREATS: (
            "Don't reply to or confront whoever made the threat. If it could happen today, "
            f"make sure the {lead} knows in person."
        ),
        GROOMING: (
            "Don't contact the adult or warn them, and don't ask the pupil for screenshots. "
            f"The {lead} will decide on a referral to the police and children's social care."
        ),
        SELF_HARM: (
            "If the pupil may be at risk today, make sure an adult stays with them and tell "
            f"the {lead} in person. Don't share the content further."
        ),
        EXTREMISM: (
            f"Don't share or forward the content. The {lead} will consider a Prevent referral."
        ),
    }.get(harm)
    return [sg_guidance(pack, "SG-HARM-TYPES", text)] if text else []
