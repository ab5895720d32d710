"""The pack's `[records]` table: how long each class of record is kept (X-RECORD), with
no period below the floor national guidance sets (bot/domain/retention_classes.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.domain.retention_classes import below_floor


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Retention(_Strict):
    """How long each class of record is kept; the sweep disposes of it after, or asks a
    person to decide (the "review" classes).

    Defaults follow the IRMS Information Management Toolkit for Schools and KCSIE Part 4.
    Evidence files go with their case.
    """

    safeguarding_years: int = Field(default=25, le=100)  # about a child: DOB or closure
    allegation_years: int = Field(default=10, le=100)  # from the allegation, then review
    malicious_allegation_days: int = Field(default=30, le=365)  # after closure
    low_level_concern_years: int = Field(default=6, le=50)  # after closure, then review
    staff_abuse_years: int = Field(default=6, le=50)  # after closure
    friend_request_years: int = Field(default=6, le=50)  # after closure
    complaint_years: int = Field(default=6, le=50)  # after resolution, then review
    account_years: int = Field(default=6, le=50)  # after the account closes
    comment_years: int = Field(default=1, le=10)  # after the reply (or close)
    abandoned_conversation_days: int = Field(default=30, le=365)
    # The review list reaches the DSL or the DPO this long before a record's period ends.
    review_notice_days: int = Field(default=30, ge=1, le=365)

    @model_validator(mode="before")
    @classmethod
    def _legacy_staff_case(cls, data: object) -> object:
        """`staff_case_years` (before retention classes) set both classes it covered."""
        if isinstance(data, dict) and "staff_case_years" in data:
            data = dict(data)
            years = data.pop("staff_case_years")
            data.setdefault("staff_abuse_years", years)
            data.setdefault("friend_request_years", years)
        return data

    @model_validator(mode="after")
    def _not_below_a_floor(self) -> Retention:
        problems = [p for name, value in self if (p := below_floor(name, value)) is not None]
        if problems:
            raise ValueError(" ".join(problems))
        return self


class Records(_Strict):
    # Before [records.retention] existed this one number was recorded and never enforced.
    # A pack that still sets it (and no [records.retention]) keeps its staff cases and
    # account records that many years; the bundled packs use [records.retention].
    retention_years: int | None = Field(default=None, ge=1, le=50)
    annual_reminder_month: int | None = Field(default=None, ge=1, le=12)
    retention: Retention = Field(default_factory=Retention)

    @model_validator(mode="before")
    @classmethod
    def _legacy_years(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("retention_years") is not None:
            if "retention" in data:
                raise ValueError(
                    "retention_years is replaced by [records.retention]; keep only that table"
                )
            years = data["retention_years"]
            if isinstance(years, int):
                data = {**data, "retention": {"staff_case_years": years, "account_years": years}}
        return data
