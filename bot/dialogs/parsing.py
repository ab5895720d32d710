"""Turning what people type on a phone into answers, with a kind message when we can't.

Every parser returns a JSON-friendly value or raises `InvalidAnswer` whose text is shown
to the user as-is, so it must say what to type instead.
"""

from __future__ import annotations

import calendar
import difflib
import re
from datetime import date, datetime, time, timedelta
from urllib.parse import urlparse

from bot.domain.messages import Choice


class InvalidAnswer(Exception):
    """The answer can't be used; the message tells the user what to send instead."""


MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9

YES = {"yes", "y", "yeah", "yep", "yup", "yes please", "correct", "true", "they have", "i have"}
NO = {"no", "n", "nope", "nah", "not really", "false", "no thanks", "they haven't", "i haven't"}
SKIP_WORDS = {"none", "no link", "skip", "n/a", "na", "no", "don't have one", "dont have one"}


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower()).strip(" .!")


# Words people add to an answer they aren't sure of ("about 16 i think", "around 10"): the
# answer is read without them, and the engine keeps the words as typed (engine.words_with).
_HEDGES = re.compile(
    r"\b(?:about|around|roughly|approx(?:imately)?|maybe|probably|perhaps|ish|or so|"
    r"i think|i believe|i guess|i reckon|i'd say|id say)\b"
)


def unhedged(said: str) -> str:
    """The answer without the words that only say it's a guess."""
    return re.sub(r"\s+", " ", _HEDGES.sub(" ", said)).strip(" ,.!?")


def is_number(text: str, max_digits: int = 6) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²" and "①", which int() refuses."""
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()


_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
NUMBER_WORDS = {word: n for n, word in enumerate(_UNITS)}
NUMBER_WORDS.update({word: 20 + 10 * n for n, word in enumerate(_TENS)})


def number_from_words(said: str) -> int | None:
    """ "seventeen", "twenty one", "twenty-one" -> the number; anything else -> None."""
    parts = said.replace("-", " ").split()
    if len(parts) == 1 and parts[0] in NUMBER_WORDS:
        return NUMBER_WORDS[parts[0]]
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _UNITS[1:10]:
        return NUMBER_WORDS[parts[0]] + NUMBER_WORDS[parts[1]]
    return None


def _bare(text: str) -> str:
    return re.sub(r"^(a|an|the)\s+", "", normalise(re.sub(r"\(.*?\)", "", text)))


def parse_choice(text: str, choices: tuple[Choice, ...], *, other_allowed: bool = False) -> str:
    """Match by number, value or label, forgiving articles, partial words and near misses.

    An "other" answer (another app) must contain a letter, so "²" or "3!" is not a name.
    """
    said = normalise(text)
    if is_number(said) and 1 <= int(said) <= len(choices):
        return choices[int(said) - 1].value
    for choice in choices:
        if said in (choice.value.lower(), normalise(choice.label), _bare(choice.label)):
            return choice.value
    bare = _bare(said)
    if len(bare) >= 3:
        for test in (
            lambda label: label.startswith(bare),
            lambda label: re.search(rf"\b{re.escape(bare)}\b", label) is not None,
        ):
            hits = [c for c in choices if test(_bare(c.label))]
            if len(hits) == 1:
                return hits[0].value
            if hits:
                break
        else:  # a word in a label's brackets: "public" for "Open (public)"
            hits = [c for c in choices if re.search(rf"\b{re.escape(bare)}\b", normalise(c.label))]
            if len(hits) == 1:
                return hits[0].value
        # A near miss for one label ("instgram", "a formr pupil"), using difflib's ratio.
        labels = {_bare(c.label): c.value for c in choices}
        near = difflib.get_close_matches(bare, list(labels), n=2, cutoff=0.85)
        if len(near) == 1:
            return labels[near[0]]
    values = {c.value for c in choices}
    if {"yes", "no"} <= values and (yes := _yes_or_no(said)) is not None:
        return "yes" if yes else "no"  # "no its a parent" at "Do you think a pupil posted it?"
    if other_allowed and said:
        if not any(ch.isalpha() for ch in said):
            raise InvalidAnswer("Please type the name, in words.")
        if len(text.strip()) > 60:
            raise InvalidAnswer("Please keep that short (60 characters or fewer).")
        return OWN_SPELLING.get(said, text.strip())
    options = ", ".join(f"{i}) {c.label}" for i, c in enumerate(choices, 1))
    raise InvalidAnswer(f"Sorry, I didn't catch that. Please choose one: {options}.")


# Apps and sites typed in lower case, as their makers spell them ("linkedin" -> LinkedIn).
OWN_SPELLING = {
    name.lower(): name
    for name in (
        "LinkedIn", "Discord", "Reddit", "Twitch", "Pinterest", "Threads", "Telegram", "Signal",
        "BeReal", "Roblox", "Tumblr", "Bluesky", "Mastodon", "Messenger", "Minecraft",
        "Fortnite", "Steam", "Xbox", "PlayStation", "Vimeo", "Flickr", "Yubo", "Kik",
        "Viber", "WeChat", "Clubhouse", "OnlyFans", "Omegle", "Tinder", "Wattpad",
    )
}  # fmt: skip

# A leading yes or no answers the question even when more follows ("no, he is my nephew").
_LEADING_YES = {"yes", "y", "yeah", "yep", "yup", "yea", "correct"}
_LEADING_NO = {"no", "n", "nope", "nah"}
_NOT_AN_ANSWER = ("no idea", "not sure", "no clue", "no one knows")


def _yes_or_no(said: str) -> bool | None:
    """A yes or a no, alone or leading ("no, he is my nephew"); None for anything else."""
    if said in YES:
        return True
    if said in NO:
        return False
    first = re.split(r"[\s,;:.!-]+", said, maxsplit=1)[0]
    if not said.startswith(_NOT_AN_ANSWER) and first != said:
        if first in _LEADING_YES:
            return True
        if first in _LEADING_NO:
            return False
    return None


# A third answer where doubt must count (SG-DANGER): "not sure", "maybe", "i think so".
NOT_SURE = "not_sure"
_NOT_SURE = re.compile(
    r"(?:3|not_sure|not sure|unsure|(?:i )?(?:don'?t|do not|dunno) know|dunno|idk|no idea|"
    r"maybe|possibly|perhaps|i think so|might be|could be|not certain|can'?t tell)(?:$|[\s,;:.!?-])"
)


def is_not_sure(text: str) -> bool:
    """ "not sure", "maybe, she said something odd", "i think so": doubt, alone or leading."""
    return _NOT_SURE.match(normalise(text)) is not None


def parse_yes_no(text: str) -> bool:
    said = normalise(text)
    if said in ("1", "2"):
        return said == "1"
    if re.match(r"not yet\b", said):  # "not yet, i want to talk to someone first": a no, for now
        return False
    if re.match(r"not (?:right )?now\b", said):  # "not right now, she's in my room": a no
        return False
    yes = _yes_or_no(said)
    if yes is None:
        raise InvalidAnswer("Please answer yes or no.")
    return yes


def parse_text(text: str, max_chars: int) -> str:
    value = text.strip()
    if not value:
        raise InvalidAnswer("I didn't get any text. Please type your answer.")
    if len(value) > max_chars:
        raise InvalidAnswer(
            f"That's a bit long ({len(value):,} characters). Please keep it under "
            f"{max_chars:,}; you can send longer notes as a file."
        )
    return value


# Digits are spelt [0-9]: in Python's str patterns \d also matches other scripts' digits.
_TIME_12H = re.compile(r"(?:^|\s)(?:at\s+)?([0-9]{1,2})(?:[:.]([0-9]{2}))?\s*(am|pm)$")
_TIME_24H = re.compile(r"(?:^|\s)(?:at\s+)?([0-9]{1,2}):([0-9]{2})$")
_NUMERIC_DATE = re.compile(r"^([0-9]{1,2})[/\-.]([0-9]{1,2})(?:[/\-.]([0-9]{2}|[0-9]{4}))?$")
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_WORD_DATE = re.compile(r"^([0-9]{1,2})(?:st|nd|rd|th)?\s+([a-z]+)(?:\s+([0-9]{4}))?$")


# A bare hour beside a part of the day: "this morning 10", "10 last night".
_PARTS = r"morning|afternoon|evening|night|tonight"
_PART_THEN_HOUR = re.compile(
    rf"^(?P<day>.*\b(?P<part>{_PARTS}))\s+(?:at\s+)?(?P<h>[0-9]{{1,2}})(?:[:.](?P<m>[0-9]{{2}}))?$"
)
_HOUR_THEN_PART = re.compile(
    rf"^(?:at\s+)?(?P<h>[0-9]{{1,2}})(?:[:.](?P<m>[0-9]{{2}}))?\s+(?P<day>.*\b(?P<part>{_PARTS}))$"
)


def _split_hour_of_part(said: str) -> tuple[str, time | None]:
    """ "this morning 10" -> ("this morning", 10:00); "last night 9" -> 21:00."""
    match = _PART_THEN_HOUR.match(said) or _HOUR_THEN_PART.match(said)
    if not match:
        return said, None
    hour, minute = int(match.group("h")), int(match.group("m") or 0)
    if not 1 <= hour <= 12 or minute > 59:
        raise InvalidAnswer("That time doesn't look right. Try something like 2:30pm or 14:30.")
    later = match.group("part") != "morning" and hour != 12
    return match.group("day").strip(), time(hour % 12 + (12 if later else 0), minute)


def _split_time(said: str) -> tuple[str, time | None]:
    """Separate a trailing time ("8pm", "at 14:30") from the date words before it."""
    twelve = _TIME_12H.search(said)
    match = twelve or _TIME_24H.search(said)
    if not match:
        return _split_hour_of_part(said)
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if twelve:
        if not 1 <= hour <= 12:
            raise InvalidAnswer("That time doesn't look right. Try something like 2:30pm or 14:30.")
        hour = hour % 12 + (12 if twelve.group(3) == "pm" else 0)
    if hour > 23 or minute > 59:
        raise InvalidAnswer("That time doesn't look right. Try something like 2:30pm or 14:30.")
    return said[: match.start()].strip(), time(hour, minute)


def _make_date(year: int, month: int, day: int, original: str) -> date:
    if year < 1900:
        raise InvalidAnswer(f"{original} is a long time ago. Please check the year.")
    if not 1 <= month <= 12:
        raise InvalidAnswer(f"{original} isn't a real date: there are only 12 months. Try 19/11.")
    try:
        return date(year, month, day)
    except ValueError:
        month_name = calendar.month_name[month]
        raise InvalidAnswer(
            f"There's no {day} {month_name}. Please check the date and try again, for example 19/11."
        ) from None


def _parse_date_words(said: str, today: date) -> date:
    if said in (
        "today", "now", "just now", "this morning", "this afternoon", "this evening", "tonight"
    ):  # fmt: skip
        return today
    if said in ("yesterday", "last night", *(f"yesterday {p}" for p in _PARTS.split("|"))):
        return today - timedelta(days=1)
    if m := _NUMERIC_DATE.match(said):
        day, month = int(m.group(1)), int(m.group(2))
        year = int(m.group(3)) if m.group(3) else today.year
        if year < 100:
            year += 2000
        return _make_date(year, month, day, said)
    if m := _ISO_DATE.match(said):
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), said)
    if m := _WORD_DATE.match(said):
        month = MONTHS.get(m.group(2), 0)
        if month:
            year = int(m.group(3)) if m.group(3) else today.year
            return _make_date(year, month, int(m.group(1)), said)
    raise InvalidAnswer(
        "I couldn't read that date. Try something like 19/11, 19/11/2026 or yesterday."
    )


def past_examples(now: datetime) -> str:
    """Examples that are all in the past right now (no "today 8am" just after midnight)."""
    recent = now.date() - timedelta(days=2)
    earlier = "today 8am, yesterday" if now.time() >= time(9, 0) else "yesterday 8pm"
    return f"{earlier} or {recent.day}/{recent.month}"


def parse_past_datetime(text: str, now: datetime) -> str:
    """A moment in the past, e.g. "yesterday 8pm" or "19/11"; returned as ISO text.

    A day and month with no year that would be in the future means last year's. Messages
    don't repeat the question: the engine asks it again right after them.
    """
    said = unhedged(normalise(text))
    if not said:
        raise InvalidAnswer("I didn't get a date.")
    rest, at = _split_time(said)
    try:
        day = _parse_date_words(rest or "today", now.date())
    except InvalidAnswer as exc:
        if "isn't a real date" in str(exc) or "There's no" in str(exc):
            raise
        raise InvalidAnswer(
            f"I couldn't read that date. Try something like {past_examples(now)}."
        ) from None
    if day > now.date() and not _has_year(rest):
        day = _same_day_last_year(day)
    moment = datetime.combine(day, at or time(0, 0), tzinfo=now.tzinfo)
    if at is None and day == now.date():
        moment = now.replace(second=0, microsecond=0)
    if day > now.date() or moment > now + timedelta(minutes=5):
        raise InvalidAnswer(f"That's in the future: it's {now:%H:%M} on {now:%-d %B} now.")
    if day.year < now.year - 20:
        raise InvalidAnswer("That's a long time ago. Please check the year.")
    return moment.isoformat(timespec="minutes") if at else day.isoformat()


def _has_year(said: str) -> bool:
    numeric = _NUMERIC_DATE.match(said)
    return bool(re.search(r"[0-9]{4}", said) or (numeric and numeric.group(3)))


def _same_day_last_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return date(day.year - 1, 2, 28)


def parse_any_date(text: str, today: date) -> str:
    """A date that may be in the future (go-live, closure)."""
    said = normalise(text)
    return _parse_date_words(said, today).isoformat()


def parse_left_date(text: str, today: date) -> str:
    """When a pupil left: a full date, a month and year, or a year (the latest day is used)."""
    said = unhedged(normalise(text))
    if m := re.fullmatch(r"(last|this) (summer|year)", said):
        # "last summer": the summer holiday just gone, even when said in July or August.
        year = today.year if m.group(1) == "this" or today.month >= 9 else today.year - 1
        if m.group(1) == "last" and m.group(2) == "year":
            year = today.year - 1
        said = f"summer {year}" if m.group(2) == "summer" else str(year)
    if (year_given := re.search(r"\b([0-9]{4})$", said)) and int(year_given.group(1)) < 1900:
        raise InvalidAnswer("That's a long time ago. Please check the year.")
    if m := re.fullmatch(r"(?:summer\s+|july\s+)?([0-9]{4})", said):
        year = int(m.group(1))
        left = date(year, 7, 31) if "summer" in said or "july" in said else date(year, 12, 31)
    elif m := re.fullmatch(r"([a-z]+)\s+([0-9]{4})", said):
        month = MONTHS.get(m.group(1))
        if not month:
            raise InvalidAnswer("I couldn't read that. Try a month and year, like July 2023.")
        year = int(m.group(2))
        left = date(year, month, calendar.monthrange(year, month)[1])
    elif m := re.fullmatch(r"([0-9]{1,2})[/\-.]([0-9]{4})", said):
        month, year = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise InvalidAnswer(
                "That month doesn't look right. Try a month and year, like 07/2023."
            )
        left = date(year, month, calendar.monthrange(year, month)[1])
    else:
        try:
            left = _parse_date_words(said, today)
        except InvalidAnswer:  # the question asks for a month: so does the hint
            raise InvalidAnswer(
                "I couldn't read that. Try a month and year, like July 2023, or a year, "
                "like 2023. Last summer is fine too."
            ) from None
    if left > today and not (left.year == today.year and is_number(said)):
        raise InvalidAnswer("That's in the future.")
    if left.year < today.year - 60:
        raise InvalidAnswer("That's a long time ago. Please check the year.")
    return min(left, today).isoformat()


def parse_age_or_birthday(text: str, today: date) -> dict[str, object]:
    said = unhedged(normalise(text))
    said = re.sub(r"\s*(years old|years|yrs|y/o|yo)$", "", said)
    age = int(said) if is_number(said, 3) else number_from_words(said)
    if age is not None:
        if not 3 <= age <= 100:
            raise InvalidAnswer("Please give their age in years, for example 16.")
        return {"age": age}
    if said in ("not sure", "don't know", "dont know", "unknown", "?"):
        return {}
    try:
        born = _parse_date_words(said, today)
    except InvalidAnswer:
        raise InvalidAnswer(
            "I couldn't read that as an age (like 16) or a date of birth (like 04/09/2009)."
        ) from None
    if born >= today or born.year < today.year - 100:
        raise InvalidAnswer("That date of birth doesn't look right. Please check it.")
    return {"born_on": born.isoformat()}


# Words that say there is no link, at the start of a sentence that is not an address:
# "there isnt one its a snap story", "no, it was a text", "i don't have one".
_NO_LINK = re.compile(
    r"^(?:no|none|nope|n/a|there (?:isn'?t|is no|was no|wasn'?t)|there'?s no|theres no|"
    r"(?:i )?(?:don'?t|do not|haven'?t|have not|didn'?t) (?:have|get|got|save)|not got|"
    r"it'?s not online|it was (?:a|an) )\b"
)


def says_no_link(text: str) -> bool:
    """Words, not an address, saying there is no link to give."""
    said = normalise(text)
    return said in SKIP_WORDS or (" " in said and _NO_LINK.match(said) is not None)


def parse_url(text: str) -> str | None:
    said = text.strip()
    if says_no_link(said):
        return None
    if len(said) > 2000:
        raise InvalidAnswer("That link is too long. Please paste just the address of the page.")
    candidate = said if re.match(r"^[a-z][a-z0-9+.-]*://", said, re.I) else f"https://{said}"
    parsed = urlparse(candidate)
    host = parsed.hostname or ""
    if (
        parsed.scheme not in ("http", "https")
        or " " in said
        or "." not in host
        or not re.fullmatch(r"[a-z0-9.-]+", host)
        or host.startswith(".")
        or host.endswith(".")
    ):
        raise InvalidAnswer(
            "That doesn't look like a web address (one usually starts with https://)."
        )
    return candidate


def parse_people(text: str) -> list[str]:
    parts = re.split(r",|;|\n|\s+and\s+|\s*&\s*", text.strip())
    people: list[str] = []
    seen: set[str] = set()
    for part in parts:
        name = re.sub(r"\s+", " ", part).strip(" .")
        if not name:
            continue
        if len(name) > 80 or not re.search(r"[A-Za-z]", name):
            raise InvalidAnswer("Please list people's names, separated by commas.")
        if name.lower() not in seen:
            seen.add(name.lower())
            people.append(name)
    if not people:
        raise InvalidAnswer("Please list the names, separated by commas.")
    return people
