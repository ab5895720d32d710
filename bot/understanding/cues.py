"""Who and what a message is about, as extra words for the classifier.

A few hundred examples cannot show every way staff name a pupil ("one of my year 9s", "a
lad in my form"), a colleague ("our chaplain", "mrs brown") or a platform ("the gram").
Each family below adds one cue word ("cue_pupil") to the words the model reads, so what
it learned from "a pupil" carries over to "a sixth former". The cues only add evidence:
the model still weighs them against everything else in the message, and they never start
a conversation by themselves.
"""

from __future__ import annotations

import re

_FAMILIES = {
    "pupil": (
        r"pupils?|students?|tutees?|kids?|child(ren)?|boys?|girls?|lads?|(year|yr|y) ?\d{1,2}s?"
        r"|form group|tutor group|my form|sixth ?formers?|learners?|teen(ager)?s?"
        r"|young (person|people)|\d{1,2} ?(year old|yo)"
    ),
    "former": (
        r"ex[- ]?(pupils?|students?|tutees?)|former (pupils?|students?|tutees?)|left (in|last)"
        r"|alumni|old (pupils?|students?)|used to teach"
    ),
    "parent": (
        r"mum|mam|mom|dad|parents?|carers?|mother|father|step ?(mum|dad)|guardian"
        r"|grand(ma|pa|mother|father|parents?)"
    ),
    "staff": (
        r"colleagues?|teachers?|tas?|lsa|mr|mrs|miss|ms|chaplain|mentor|head ?(teacher)?"
        r"|deputy|line manager|caretaker|coach|technician|cover supervisors?"
        r"|members? of staff|staff member|senco|supply|governors?|receptionist|hoy"
        r"|head of (year|department|sixth form)|teaching assistant|(lunchtime |midday )?supervisors?"
        r"|lunchtime staff|dinner lad(y|ies)|support staff|librarian|site manager|school nurse"
        r"|counsellor|coaches|instructors?|trainee( teacher)?|student teacher|ect|nqt|pgce"
    ),
    "platform": (
        r"instagram|insta|ig|the gram|snapchat|snap|tiktok|tik tok|facebook|fb|twitter|x"
        r"|whatsapp|youtube|discord|linkedin|fortnite|roblox|threads|bereal|telegram|reddit"
        r"|twitch|xbox|messenger|strava"
    ),
    "contact": (
        r"messag\w*|dm\w*|whatsapp(ed|ing)|text(ed|ing|s)?|follow(ed|ing|s)?|added|adds"
        r"|friend(ed)?|requests?|requested|contact(ed|ing)?|snapp(ed|ing)|sen(t|ds|ding)"
    ),
    "official": (
        r"our school|the school|school's|official|department|dept|choir|club|pta|academy"
        r"|trust|the page"
    ),
    "self": r"me|my|i|i'm|im|myself|mine",
    "posting": (
        r"post(s|ed|ing)?|upload\w*|shar(e|ed|es|ing)|photos?|pics?|pictures?|videos?"
        r"|images?|tagg\w*|stor(y|ies)"
    ),
    "press": r"journalists?|reporters?|press|media|news|newspaper|paper|bbc|itv|radio|podcast",
    "security": (
        r"hack(ed|er|ing)?|private|privacy|passwords?|locked|lock down|secur\w*|settings"
        r"|finsta|public|got into"
    ),
    "breach": r"break(s|ing)?|broke|breach\w*|trouble|disciplin\w*|sack\w*|fired|dismiss\w*",
    "worry": r"worr\w*|concern\w*|at risk|unsafe|scared|frightened|upset",
    "asking": (
        r"can i|am i|are we|is it|should i|do i|what do i|what should|how do i|allowed|policy"
        r"|rules?|what's the"
    ),
}
_STAFF = _FAMILIES["staff"] + r"|someone in (my|the) (department|office)|(my|our) \w+ teacher"
# Who does what: a colleague who acts ("a teacher has been messaging a year 10") is a concern
# about staff; a colleague acted on ("my colleague is being trolled", "abuse aimed at a
# member of staff") is abuse of staff. The person writing who acts ("i posted", "i've been
# chatting") is reporting themselves. A question asks about the rules.
_ROLES = {
    "staff_acts": (
        rf"\b(?:{_STAFF})\b(?: \w+){{0,2}}? (?:is|has|keeps|was|had|posted|posts|shared|shares"
        r"|sent|sends|messag\w+|dm\w*|follows?|plays|gave|added|adds|texts?|commented|comments"
        r"|liked|likes|told|asked|arranged|runs|made|put)\b(?! (?:being|getting|been (?:\w+ed)))"
    ),
    "staff_targeted": (
        rf"\b(?:{_STAFF})\b(?:'s)?(?: \w+){{0,2}}? (?:is|are|was|has been|have been|keeps?) "
        r"(?:being|getting)\b"
        rf"|\b(?:of|at|about|against|targeting|aimed at|mocking|on) (?:a |my |our |the |one of our )?"
        rf"(?:{_STAFF})\b"
        rf"|\b(?:{_STAFF})(?:'s) (?:home|car|family|photo|address|personal|face|name|picture)"
    ),
    "self_acts": (
        r"(?:^|[,.;!] )(?:i|i've|ive|i have|i think i've|i think i)(?: \w+){0,2}? (?:posted"
        r"|shared|put|said|replied|commented|made|liked|sent|gave|accepted|tweeted|retweeted"
        r"|messed up|moaned|argued|ranted|complained|lost my temper|got into|swore|slagged"
        r"|forwarded|uploaded|tagged|joined|wrote|been messaging|been chatting|been talking)\b"
        r"|\bself[- ]?report|\breport(?:ing)? (?:myself|my own)"
    ),
    # Whom the worry is about: a pupil (the safeguarding triage) or a colleague (a concern
    # about staff). "worried about a pupil" and "worried about a colleague" share most words.
    "worried_for_pupil": (
        rf"\b(?:worr\w*|concern\w*|scared|frightened) (?:about|for|that) (?:\w+ ){{0,3}}?"
        rf"(?:{_FAMILIES['pupil']})\b"
    ),
    "worried_about_staff": (
        rf"\b(?:worr\w*|concern\w*|uneasy|uncomfortable) (?:about|with|that) (?:\w+ ){{0,3}}?"
        rf"(?:{_STAFF})\b"
    ),
    # A pupil named, called names or spoken of (in a comment, a post): about a child, even
    # on the school's own page.
    "pupil_spoken_of": (
        r"\b(?:nam(?:es|ing|ed)|call(?:s|ing|ed)|says?|saying|said|mock\w*|picking on|rating"
        rf"|accus\w*) (?:\w+ ){{0,3}}?(?:{_FAMILIES['pupil']})\b"
    ),
    # Reaching out to the person writing ("a year 11 sent me a snap", "invited me to their
    # discord", "keeps commenting on my posts"), as against posting about them.
    "contacts_me": (
        r"\b(?:messag\w*|dm\w*|sen[dt]s?|sending|add(?:s|ed|ing)?|follow\w*|friend(?:ed)?"
        r"|request\w*|invit\w*|tagg\w*|whatsapp\w*|snapp\w*|text\w*|contact\w*|subscrib\w*"
        r"|connect\w*|comment\w* on|turn\w* up in|reach\w* out to|found|rang|called|emailed)"
        r" (?:me|my)\b"
    ),
    "asks": (
        r"^(?:can|could|am|are|is|should|do|does|what|what's|how|who|when|where|which|if|will"
        r"|would|may|quick q\w*)\b|\?\s*$"
    ),
}
_PATTERNS = tuple(
    (f"cue_{family}", re.compile(rf"\b(?:{words})\b")) for family, words in _FAMILIES.items()
) + tuple((f"cue_{role}", re.compile(pattern)) for role, pattern in _ROLES.items())


def with_cues(text: str) -> str:
    """The (already normalised) text followed by a cue word for each family it mentions."""
    cues = [cue for cue, pattern in _PATTERNS if pattern.search(text)]
    return f"{text} {' '.join(cues)}" if cues else text
