"""Policy packs: one school's rules as validated data, loaded from TOML.

A pack never contains code. Every rule the bot applies carries the school's own clause
number (see `clauses`), so each piece of guidance can say "(Policy 5.4)".
"""

from __future__ import annotations

import tomllib
from datetime import date, time
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.domain.escalation import Step, check_order, default_ladder
from bot.domain.messages import Guidance
from bot.domain.policy_records import Records

# Stable clause IDs the bot acts on; docs/policy-clauses.md says what it does for each
# (written from bot/domain/clauses.py by `schoolbot policy clauses`).
KNOWN_CLAUSES = frozenset(
    {
        "FR-DECLINE", "FR-DSL", "FR-REDIRECT", "FR-FAMILY", "FR-ANY-SCHOOL", "FR-EXPUPIL-KJS",
        "FR-EXPUPIL-U18", "FR-PARENT", "FR-PARENT-CONFLICT", "FR-ASK-IT",
        "CB-NO-ENGAGE", "CB-EVIDENCE", "CB-REPORT-SENIOR", "CB-SAFEGUARD", "CB-REMOVAL-24H",
        "CB-POLICE", "CB-PUPIL-AUTHOR", "CB-SUPPORT", "CB-BLOCK",
        "AC-CASE", "AC-FORM-DA", "AC-APPROVE-ONE", "AC-APPROVE-CHAIN", "AC-TRAINED",
        "AC-REGISTER", "AC-LEAVER", "AC-AGE",
        "MO-24H", "MO-REGULAR", "MO-OFFENSIVE", "MO-PARENT", "MO-COMPLAINT", "MO-JOURNALIST",
        "X-CONFIDENTIAL", "X-RECORD", "X-ANNUAL",
        "X-PHOTOS", "X-VIEWS", "X-LOGOS", "X-PRIVACY", "X-JOURNALIST-STAFF", "X-BREACH",
        "SG-DANGER", "SG-NUDES", "SG-HARM-TYPES", "SG-ALLEGATION", "SG-LOW-LEVEL",
        "SG-SELF-REPORT", "SG-UNFINISHED",
    }
)  # fmt: skip

# Account-request fields a pack may require, beyond the AC-CASE business case.
ACCOUNT_FIELDS = (
    "name", "platform", "aim", "audience", "promotion", "run_by", "visibility", "content",
    "department", "author", "line_manager", "contributors", "administrators", "moderators",
    "vetting", "host", "go_live", "closure_date", "contributor_recruitment", "parental_consent",
    "security",
)  # fmt: skip
BUSINESS_CASE_FIELDS = ("name", "platform", "aim", "audience", "promotion", "run_by", "visibility")

Team = Literal["dsl", "slt"]
# A clause mapped to national guidance rather than a section of the school's own policy is
# cited by name, not as "Policy ...": e.g. "KCSIE 2025 para 71" or "UKCIS nudes advice 2024".
NATIONAL_GUIDANCE = ("KCSIE", "UKCIS", "Working Together", "DfE", "Prevent")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# What a pack says until the school fills in its Data Protection Officer (`policy check`
# warns while it does; the privacy notice then points to the school office).
DPO_PLACEHOLDER = "REPLACE WITH YOUR DPO'S NAME, EMAIL AND PHONE"


class School(_Strict):
    name: str = Field(min_length=2)
    policy_title: str = "Social Media Policy"
    official_account: str | None = None
    # How to reach the school's Data Protection Officer (privacy notice, subject access).
    dpo_contact: str = DPO_PLACEHOLDER
    # Who runs the server the bot and its database are on, and where (privacy notice, DPIA).
    host: str | None = None

    @property
    def dpo_known(self) -> bool:
        return bool(self.dpo_contact.strip()) and self.dpo_contact != DPO_PLACEHOLDER


class Role(_Strict):
    label: str = Field(min_length=2)
    team: Team | None = None


class FormerPupilRule(_Strict):
    """How long former pupils stay off-limits.

    never:        no contact at any time after leaving (treated like current pupils)
    until_age:    no contact while under `age`                       (FR-EXPUPIL-U18)
    years_or_age: no contact for `years` after leaving or until `age`,
                  whichever is longer                                  (FR-EXPUPIL-KJS)
    judgement:    the policy sets no fixed rule; staff use judgement
    """

    rule: Literal["never", "until_age", "years_or_age", "judgement"]
    age: int | None = Field(default=None, ge=1, le=30)
    years: int | None = Field(default=None, ge=1, le=20)

    @model_validator(mode="after")
    def _parameters_match_rule(self) -> FormerPupilRule:
        if self.rule in ("until_age", "years_or_age") and self.age is None:
            raise ValueError(f"rule '{self.rule}' needs 'age' (for example age = 18)")
        if self.rule == "years_or_age" and self.years is None:
            raise ValueError("rule 'years_or_age' needs 'years' (for example years = 3)")
        return self


class Relationships(_Strict):
    any_school: bool = False
    family_exception: bool = True
    former_pupils: FormerPupilRule
    parents: Literal["forbidden", "conflict_of_interest", "judgement"]
    other_young_people: Literal["decline", "judgement"] = "judgement"
    tell_dsl_about_pupil_requests: bool = True
    unsure_contact: str = "your line manager"


class AccountRules(_Strict):
    stages: list[str] = Field(min_length=1)
    required_fields: list[str] = Field(default_factory=lambda: list(BUSINESS_CASE_FIELDS))
    min_named_staff: int = Field(default=2, ge=1, le=10)
    ask_trained: bool = True
    ask_minimum_age: bool = False

    @field_validator("required_fields")
    @classmethod
    def _known_fields(cls, value: list[str]) -> list[str]:
        unknown = [f for f in value if f not in ACCOUNT_FIELDS]
        if unknown:
            raise ValueError(
                f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(ACCOUNT_FIELDS)}"
            )
        missing = [f for f in ("name", "run_by") if f not in value]
        if missing:
            raise ValueError(f"must include {', '.join(missing)}")
        return value


class Closure(_Strict):
    start: date
    end: date
    name: str = "School closure"

    @model_validator(mode="after")
    def _ordered(self) -> Closure:
        if self.end < self.start:
            raise ValueError(f"closure '{self.name}' ends ({self.end}) before it starts")
        return self


class Calendar(_Strict):
    timezone: str = "Europe/London"
    nation: Literal["england-and-wales", "scotland", "northern-ireland"] = "england-and-wales"
    working_days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default=["mon", "tue", "wed", "thu", "fri"], min_length=1
    )
    day_starts: time = time(8, 0)
    day_ends: time = time(17, 0)
    closures: list[Closure] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _real_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"'{value}' is not a timezone name such as Europe/London") from exc
        return value

    @model_validator(mode="after")
    def _day_order(self) -> Calendar:
        if self.day_ends <= self.day_starts:
            raise ValueError("day_ends must be later than day_starts")
        return self


class Comments(_Strict):
    reply_within_hours: int = Field(default=24, ge=1, le=24 * 14)
    nudge_before_hours: int = Field(default=4, ge=0, le=48)
    weekend_to_next_working_day: bool = True
    # MO-COMPLAINT: the role whose agreement a reply to a complaint needs before it is sent
    # (Dukeries 6.7 "should be agreed by the principal"); unset where the policy says none.
    complaint_reply_agreed_by: str | None = None


class Alerts(_Strict):
    """X-CONFIDENTIAL: how much of a case a channel alert may show.

    minimal:  reference, type, urgency and what to do next
    standard: adds the structured answers (platform, who sent it, flags)
    full:     adds the reporter's own description
    """

    detail: Literal["minimal", "standard", "full"] = "standard"
    unacknowledged_realert_minutes: int = Field(default=30, ge=5, le=24 * 60)
    # The escalation ladder (bot/domain/escalation.py); None: its default_ladder.
    escalation: list[Step] | None = None
    # Whose email is the last level: a role key; None: "headteacher", else "principal".
    head_role: str | None = None

    @field_validator("escalation")
    @classmethod
    def _ladder_in_order(cls, value: list[Step] | None) -> list[Step] | None:
        if value is not None:
            check_order(value)
        return value

    @property
    def ladder(self) -> tuple[Step, ...]:
        if self.escalation is None:
            return default_ladder(self.unacknowledged_realert_minutes)
        return tuple(self.escalation)


class Safeguarding(_Strict):
    """Where concerns about staff go (KCSIE Part 4) and how long an unfinished report may
    wait (SG-UNFINISHED). Role keys name roles under [roles]."""

    # An allegation that a colleague may have harmed a child or may pose a risk: the first
    # of these roles the person concerned does not hold.
    allegation_to: list[str] = Field(default_factory=lambda: ["headteacher", "chair_of_governors"])
    # A low-level concern or a breach of the social media policy.
    low_level_to: list[str] = Field(
        default_factory=lambda: ["headteacher", "dsl", "chair_of_governors"]
    )
    # A member of staff reporting their own post (a private self-report).
    self_report_to: list[str] = Field(default_factory=lambda: ["headteacher", "dsl"])
    # The reporter is reminded of an unfinished report after this long, and again the next
    # working morning; one about a child reaches the DSL after `unfinished_to_dsl_hours`
    # working hours.
    unfinished_reminder_minutes: int = Field(default=30, ge=5, le=24 * 60)
    unfinished_to_dsl_hours: int = Field(default=1, ge=1, le=24)
    # CB-POLICE: true where the policy reports illegal conduct to the police whatever the
    # member of staff wants ("Where conduct is considered illegal, the school will report
    # the matter to the police"); false where it asks their consent first.
    police_without_consent: bool = False


class Wording(_Strict):
    """The school's own words for things, read as the bot's ("the VLE" = "the school
    website", "Y12" = "sixth form"), so free text in them is understood."""

    words: dict[str, str] = Field(default_factory=dict)


class PolicyPack(_Strict):
    school: School
    roles: dict[str, Role]
    relationships: Relationships
    accounts: AccountRules
    calendar: Calendar = Field(default_factory=Calendar)
    comments: Comments = Field(default_factory=Comments)
    alerts: Alerts = Field(default_factory=Alerts)
    records: Records = Field(default_factory=Records)
    safeguarding: Safeguarding = Field(default_factory=Safeguarding)
    understanding: Wording = Field(default_factory=Wording)
    clauses: dict[str, Annotated[str, Field(min_length=1)]]
    # A clause's rule in words written for this school, to answer a question about the
    # rules ("can I accept my tutee's mum on facebook?"); see bot/domain/answers.py. A rule
    # whose clause is not under [clauses] is never given: there is nothing to cite.
    rules: dict[str, Annotated[str, Field(min_length=10, max_length=400)]] = Field(
        default_factory=dict
    )

    @field_validator("clauses")
    @classmethod
    def _known_clauses(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - KNOWN_CLAUSES)
        if unknown:
            raise ValueError(f"unknown clause id(s): {', '.join(unknown)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> PolicyPack:
        for team in ("dsl", "slt"):
            if not any(r.team == team for r in self.roles.values()):
                raise ValueError(f'roles: at least one role needs team = "{team}"')
        for stage in self.accounts.stages:
            if stage not in self.roles:
                raise ValueError(f"accounts.stages: '{stage}' is not a role defined under [roles]")
        if self.alerts.head_role is not None and self.alerts.head_role not in self.roles:
            raise ValueError(
                f"alerts.head_role: '{self.alerts.head_role}' is not a role defined under [roles]"
            )
        agreed_by = self.comments.complaint_reply_agreed_by
        if agreed_by is not None and agreed_by not in self.roles:
            raise ValueError(
                f"comments.complaint_reply_agreed_by: '{agreed_by}' is not a role defined "
                "under [roles]"
            )
        for setting in ("allegation_to", "low_level_to", "self_report_to"):
            for role in getattr(self.safeguarding, setting):
                if role not in self.roles:
                    raise ValueError(
                        f"safeguarding.{setting}: '{role}' is not a role defined under [roles]"
                    )
        needs = {
            "years_or_age": "FR-EXPUPIL-KJS",
            "until_age": "FR-EXPUPIL-U18",
        }.get(self.relationships.former_pupils.rule)
        if needs and needs not in self.clauses:
            raise ValueError(f"clauses: former_pupils rule needs a citation for {needs}")
        for clause in ("FR-DECLINE", "CB-REPORT-SENIOR"):
            if clause not in self.clauses:
                raise ValueError(f"clauses: {clause} is required")
        return self

    # --- helpers the rules and dialogs use -------------------------------------------------

    def cite(self, clause: str) -> str:
        """The school's own reference for a clause, e.g. "(Policy 5.4)", or the national
        guidance it rests on where the school's policy is silent ("(KCSIE 2025 para 71)")."""
        return self.cite_all(clause)

    def cite_all(self, *clauses: str) -> str:
        """One citation for advice resting on several clauses, e.g. "(Policy 5.5, 5.3)"."""
        refs = list(dict.fromkeys(self.clauses[c] for c in clauses if c in self.clauses))
        own = [r for r in refs if not r.startswith(NATIONAL_GUIDANCE)]
        national = [r for r in refs if r.startswith(NATIONAL_GUIDANCE)]
        parts = ([f"Policy {', '.join(own)}"] if own else []) + national
        return f"({'; '.join(parts)})" if parts else ""

    def cited(self, text: str, clause: str) -> str:
        """`text` followed by its citation, if the pack has one."""
        return f"{text} {self.cite(clause)}".rstrip()

    def guidance(self, clause: str, text: str) -> Guidance:
        return Guidance(clause, self.cited(text, clause))

    def has(self, clause: str) -> bool:
        return clause in self.clauses

    def roles_in_team(self, team: str) -> list[str]:
        return [key for key, role in self.roles.items() if role.team == team]

    def role_label(self, key: str) -> str:
        role = self.roles.get(key)
        return role.label if role else key

    @property
    def lead_dsl_role(self) -> str:
        return self.roles_in_team("dsl")[0]

    @property
    def head_role(self) -> str | None:
        """The Headteacher's role key, for the ladder's last level (None: no such role)."""
        if self.alerts.head_role is not None:
            return self.alerts.head_role
        return next((r for r in ("headteacher", "principal") if r in self.roles), None)


class PolicyError(Exception):
    """A pack that cannot be used, with one line per problem naming the field."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def _describe(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors():
        path = ".".join(str(p) for p in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "is missing"
        elif item["type"] == "extra_forbidden":
            message = "is not a known setting (check the spelling)"
        lines.append(f"{path}: {message}")
    return lines


def parse_pack(text: str, source: str = "<pack>") -> PolicyPack:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(source, [f"not valid TOML: {exc}"]) from exc
    try:
        return PolicyPack.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(source, _describe(exc)) from exc


def bundled_pack_names() -> list[str]:
    folder = resources.files("bot.policies")
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_pack(name_or_path: str) -> PolicyPack:
    """Load a bundled pack by name (e.g. "dukeries-academy") or any TOML file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(str(path), [f"cannot read the file: {exc.strerror}"]) from exc
        return parse_pack(text, str(path))
    bundled = resources.files("bot.policies") / f"{name_or_path}.toml"
    if not bundled.is_file():
        raise PolicyError(
            name_or_path,
            [f"no such pack; bundled packs are: {', '.join(bundled_pack_names())}"],
        )
    return parse_pack(bundled.read_text(encoding="utf-8"), name_or_path)
