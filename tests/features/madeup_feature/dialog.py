"""The made-up conversation: what was lost, and whether it holds pupils' data."""

from __future__ import annotations

from bot.dialogs.declarations import Context, Dialog, Step
from bot.dialogs.outcome import Outcome
from bot.domain.cases import CaseKind
from bot.domain.retention_classes import ACCOUNT
from tests.features.madeup_feature.rules import urgent

KIND = CaseKind(
    "LD",
    "Lost or stolen device",
    dialog="lost_device",
    standard_fields=("device",),
    retention=ACCOUNT,  # not the default, so a test can see it is this one
)


def _finish(ctx: Context) -> Outcome:
    a = ctx.answers
    return Outcome(
        kind=KIND,
        open_case=True,
        team="slt",
        urgent=urgent(holds_pupil_data=bool(a["pupil_data"])),
        guidance=[],
        summary={"device": a["device"]},
        details=dict(a),
    )


LOST_DEVICE = Dialog(
    name="lost_device",
    title="Lost device report",
    intro="Sorry to hear that. Two quick questions.",
    steps=(
        Step("device", "What was lost?", "text", max_chars=200),
        Step("pupil_data", "Does it hold pupils' data?", "yesno"),
    ),
    finish=_finish,
)
