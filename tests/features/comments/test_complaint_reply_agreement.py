"""Issue 23 point 7: who must agree a reply to a complaint is what each policy says, no more:
Dukeries 6.7 "should be agreed by the principal"; King James's 2.9 and Merriott-Haselbury
12.c.iii only "refer parents to the ... complaints procedures"."""

from __future__ import annotations

import pytest

from bot.domain.policy import load_pack
from bot.features.comments.rules import guidance_for


@pytest.mark.issue(23, 7)
@pytest.mark.parametrize(
    ("name", "agreed_by"),
    [
        ("dukeries-academy", "Principal"),
        ("default", "Headteacher"),
        ("king-jamess-school", None),
        ("merriott-haselbury-federation", None),
    ],
)
def test_7_a_complaint_reply_is_agreed_by_whom_the_policy_names(name, agreed_by):
    pack = load_pack(name)
    [line] = [
        g
        for g in guidance_for(pack, "parent", offensive=False, complaint=True)
        if g.clause == "MO-COMPLAINT"
    ]
    assert "complaints procedure" in line.text
    assert line.text.endswith(pack.cite("MO-COMPLAINT"))
    if agreed_by:
        assert f"must be agreed by the {agreed_by} before it is sent" in line.text
    else:
        assert "agreed by" not in line.text
