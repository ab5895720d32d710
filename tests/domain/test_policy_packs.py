"""Policy packs: every bundled pack loads, and `schoolbot policy check` explains bad ones."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.domain.policy import KNOWN_CLAUSES, PolicyError, bundled_pack_names, load_pack
from tests.helpers import ROOT

PACKS = [
    "default", "dukeries-academy", "st-anns-school", "king-jamess-school", "harmonize-academy",
    "merriott-haselbury-federation",
]  # fmt: skip
DEFAULT_TEXT = (ROOT / "bot" / "policies" / "default.toml").read_text()


def test_six_packs_are_bundled():
    assert sorted(bundled_pack_names()) == sorted(PACKS)


@pytest.mark.parametrize("name", PACKS)
def test_bundled_pack_is_valid_and_cites_only_known_clauses(name):
    pack = load_pack(name)
    assert set(pack.clauses) <= KNOWN_CLAUSES
    assert pack.cite("FR-DECLINE").startswith("(Policy ")
    result = CliRunner().invoke(main, ["policy", "check", name])
    assert result.exit_code == 0 and result.output.startswith("OK:")


def test_faithful_differences_between_schools():
    kjs = load_pack("king-jamess-school").relationships.former_pupils
    assert (kjs.rule, kjs.years, kjs.age) == ("years_or_age", 3, 18)
    assert load_pack("harmonize-academy").relationships.former_pupils.age == 18
    assert load_pack("dukeries-academy").accounts.stages == [
        "safeguarding_officer",
        "ict_manager",
        "principal",
    ]
    assert load_pack("merriott-haselbury-federation").clauses["MO-24H"] == "6"
    assert load_pack("dukeries-academy").relationships.any_school is True


@pytest.mark.parametrize("name", PACKS)
def test_every_pack_maps_the_safeguarding_clauses_and_routes_to_its_own_roles(name):
    pack = load_pack(name)
    assert {c for c in KNOWN_CLAUSES if c.startswith("SG-")} <= set(pack.clauses)
    chair = pack.roles["chair_of_governors"]
    assert (chair.label, chair.team) == ("Chair of governors", None)
    routes = pack.safeguarding
    for roles in (routes.allegation_to, routes.low_level_to, routes.self_report_to):
        assert roles and set(roles) <= set(pack.roles)
    # An allegation about the head goes to the chair of governors (KCSIE Part 4).
    assert routes.allegation_to[-1] == "chair_of_governors"
    assert pack.roles[routes.allegation_to[0]].label in ("Headteacher", "Principal")


def test_safeguarding_citations_name_national_guidance_or_the_schools_section():
    default = load_pack("default")
    assert default.cite("SG-NUDES") == "(UKCIS nudes advice 2024)"
    assert default.cite_all("SG-DANGER", "CB-SAFEGUARD") == "(Policy 5.3; KCSIE 2025 Part 1)"
    kjs = load_pack("king-jamess-school")
    assert kjs.cite("SG-SELF-REPORT") == "(Policy 2.8)"
    assert kjs.cite("SG-ALLEGATION") == "(Policy 2.6)"
    assert load_pack("harmonize-academy").cite("SG-HARM-TYPES") == "(Policy 6)"
    assert load_pack("dukeries-academy").safeguarding.allegation_to == [
        "principal",
        "chair_of_governors",
    ]
    assert load_pack("st-anns-school").safeguarding.low_level_to == [
        "headteacher",
        "chair_of_governors",
    ]


@pytest.mark.parametrize(
    "change,expected",
    [
        (('[school]\nname = "Our School"', '[school]\nname = ""'), "school.name: String should"),
        (
            ('stages = ["headteacher"]', 'stages = ["bursar"]'),
            "accounts.stages: 'bursar' is not a role",
        ),
        (('FR-DECLINE = "4.1"', 'FR-DECLNE = "4.1"'), "unknown clause id(s): FR-DECLNE"),
        (
            ('timezone = "Europe/London"', 'timezone = "Mars/Olympus"'),
            "calendar.timezone: 'Mars/Olympus' is not a timezone",
        ),
        (
            ('{ rule = "until_age", age = 18 }', '{ rule = "years_or_age", age = 18 }'),
            "needs 'years'",
        ),
        (
            ("min_named_staff = 2", 'min_named_staff = "two"'),
            "accounts.min_named_staff: Input should be a valid integer",
        ),
        (
            ("[alerts]", "[alerts]\nshow_everything = true"),
            "alerts.show_everything: is not a known",
        ),
        (
            ('allegation_to = ["headteacher", "chair_of_governors"]', 'allegation_to = ["head"]'),
            "safeguarding.allegation_to: 'head' is not a role defined under [roles]",
        ),
        (("[school]", "[school"), "not valid TOML"),
    ],
)
def test_policy_check_names_the_field_and_the_problem(tmp_path, change, expected):
    old, new = change
    assert old in DEFAULT_TEXT
    bad = tmp_path / "bad.toml"
    bad.write_text(DEFAULT_TEXT.replace(old, new, 1))
    with pytest.raises(PolicyError):
        load_pack(str(bad))
    result = CliRunner().invoke(main, ["policy", "check", str(bad)])
    assert result.exit_code == 1
    assert expected in result.output, result.output


def test_missing_file_is_explained(tmp_path):
    result = CliRunner().invoke(main, ["policy", "check", str(tmp_path / "nope.toml")])
    assert result.exit_code == 1 and "cannot read the file" in result.output
