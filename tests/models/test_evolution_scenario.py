"""Scenario files: the contract of issue 19, refused with file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from trkres.errors import InputError
from trkres.models.evolution.scenario import compile_scenario, read_scenario, scenario_from

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "evolution"

GOOD = """\
name: test
initial_cells: 1
detection_size: 1.0e9
progression_size: 2.0e9
horizon: 3650
birth: 0.14
death: 0.13
death_on_drug: 0.17
types:
  sensitive: {resists: []}
  r_a: {resists: [A], birth: 0.14}
  r_b: {resists: [B]}
  r_ab: {resists: [A, B]}
mutations:
  - {from: sensitive, to: r_a, rate: 5.0e-8}
  - {from: r_a, to: r_ab, rate: 5.0e-8}
regimens:
  simultaneous: [{drugs: [A, B]}]
  sequential: [{drugs: [A], until: progression}, {drugs: [B]}]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> InputError:
    with pytest.raises(InputError) as info:
        read_scenario(_write(tmp_path, text))
    return info.value


def test_the_issue_example_and_the_shipped_examples_read() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        scenario = read_scenario(path)
        assert "sensitive" in scenario.types
    sc, notes, _ = scenario_from(read_scenario(EXAMPLES / "bozic2013.yaml"))
    c = compile_scenario(sc)
    assert c.types[0] == "sensitive" and c.regimens == ["simultaneous", "sequential"]
    # r1 resists drug1 only: killed by the combination, spared by step 1 of sequential
    r1 = c.types.index("r1")
    assert c.step_death[0, 0, r1] == 0.17 and c.step_death[1, 0, r1] == 0.13
    assert c.step_death[1, 1, r1] == 0.17
    assert notes == []


def test_compile_the_issue_example(tmp_path: Path) -> None:
    sc = read_scenario(_write(tmp_path, GOOD))
    c = compile_scenario(sc, ["sequential"])
    assert c.regimens == ["sequential"] and c.n_steps.tolist() == [2]
    assert c.u[0, 1] == 5e-8 and c.u[1, 3] == 5e-8 and c.u.sum() == pytest.approx(1e-7)
    _, notes, _ = scenario_from(sc)
    assert any("resisted but given in no regimen" in n for n in notes) is False
    with pytest.raises(InputError, match="unknown regimen"):
        compile_scenario(sc, ["nope"])


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("horizon: 3650", "horizon: 3650\ncolour: red", 6, "colour"),
        ("rate: 5.0e-8}\n  - {from: r_a", "rate: 5.0e-8}\n  - {from: r_x", 16, "unknown type 'r_x'"),
        ("{from: sensitive, to: r_a, rate: 5.0e-8}", "{from: sensitive, to: r_a, rate: 1.5}", 15,
         "less than or equal to 1"),
        ("progression_size: 2.0e9", "progression_size: 1.0e8", 4, "progression_size must exceed"),
        ("[{drugs: [A], until: progression}, {drugs: [B]}]",
         "[{drugs: [A]}, {drugs: [B]}]", 19, "without 'until'"),
        ("{drugs: [B]}]", "{drugs: [B], until: progression}]", 19, "last step has 'until'"),
        ("death: 0.13", "death: 0.15", 6, "does not grow"),
        ("  sensitive: {resists: []}", "  sens: {resists: []}", 10, "no type named 'sensitive'"),
        ("birth: 0.14\ndeath:", "birth: 0.14\nbirth: 0.2\ndeath:", 7, "duplicate key"),
        ("{from: r_a, to: r_ab, rate: 5.0e-8}", "{from: r_a, to: r_a, rate: 5.0e-8}", 16,
         "same type"),
    ],
)  # fmt: skip
def test_errors_point_at_line_and_column(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    assert old in GOOD
    err = _error(tmp_path, GOOD.replace(old, new, 1))
    assert message in str(err)
    assert err.location is not None and err.location.line == line
    assert err.location.column is not None


def test_rates_of_one_type_may_not_sum_above_one(tmp_path: Path) -> None:
    text = GOOD.replace("  - {from: r_a, to: r_ab, rate: 5.0e-8}",
                        "  - {from: sensitive, to: r_b, rate: 0.6}\n  - {from: sensitive, to: r_ab, rate: 0.5}")  # fmt: skip
    text = text.replace("rate: 5.0e-8}", "rate: 0.1}")
    err = _error(tmp_path, text)
    assert "sum above 1" in str(err) and err.location is not None and err.location.line == 17


def test_mappings_are_checked_without_a_file() -> None:
    with pytest.raises(InputError, match="detection_size"):
        scenario_from({"name": "x"})
    with pytest.raises(InputError, match="not a scenario"):
        scenario_from(3)  # type: ignore[arg-type]


def test_review_findings_are_refused_or_fixed(tmp_path) -> None:
    """An adversarial pass: a bulk that mutates away faster than it grows (an endless
    loop before), booleans as numbers, duplicate regimens, out-of-domain closed forms."""
    import math

    import pytest

    import trkres as tr
    from trkres.errors import InputError
    from trkres.models.evolution import closed_forms

    base = {
        "name": "s", "detection_size": 1e5, "progression_size": 2e5, "horizon": 100,
        "birth": 0.14, "death": 0.13, "death_on_drug": 0.17,
        "types": {"sensitive": {"resists": []}, "r_a": {"resists": ["A"]}},
        "mutations": [{"from": "sensitive", "to": "r_a", "rate": 0.1}],
        "regimens": {"mono": [{"drugs": ["A"]}]},
    }  # fmt: skip
    with pytest.raises(InputError, match="sensitive bulk does not grow"):
        tr.evolution.simulate(base, patients=5)
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ninitial_cells: 1\ndetection_size: 1.0e5\nprogression_size: 2.0e5\n"
                    "horizon: 100\nbirth: true\ndeath: 0.13\ndeath_on_drug: 0.17\n"
                    "types: {sensitive: {resists: []}}\nregimens: {mono: [{drugs: [A]}]}\n")  # fmt: skip
    with pytest.raises(InputError, match="birth must be a number") as err:
        tr.evolution.read_scenario(path)
    assert err.value.location is not None and err.value.location.line == 6
    with pytest.raises(InputError, match="not a scenario file"):
        tr.evolution.read_scenario(3)  # type: ignore[arg-type]
    ok = dict(base, mutations=[{"from": "sensitive", "to": "r_a", "rate": 1e-4}])
    res = tr.evolution.simulate(ok, patients=20, regimens=["mono", "mono"])
    assert res["summary"]["patients"].tolist() == [20]
    with pytest.raises(InputError, match="closed form does not hold"):
        closed_forms.p_cure_dual(1e9, 0.5, 0.14, 0.13, 0.17, 50, 50, 1)
    with pytest.raises(InputError, match="bad argument n12"):
        closed_forms.p_cure_dual(1e9, 1e-9, 0.14, 0.13, 0.17, 50, 50, -1)
    assert closed_forms.expected_resistant_cells(1, 1e-8, 0.14, 0.13) == 0.0
    assert math.isclose(closed_forms.p_cure_dual(1e9, 1e-9, 0.14, 0.13, 0.17, 50, 50, 1),
                        0.2632, abs_tol=1e-3)  # fmt: skip
