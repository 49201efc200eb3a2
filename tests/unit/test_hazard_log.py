"""The clinical safety case's hazard log names real tests for every control.

docs/clinical-safety/hazard-log.yaml lists each hazard with its controls, and each control with
the tests that show it (``tests/path.py::test_name``). A control whose test was renamed or
deleted would be a claim nobody checks: this test fails on it.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LOG_PATH = ROOT / "docs" / "clinical-safety" / "hazard-log.yaml"
LOG = yaml.safe_load(LOG_PATH.read_text(encoding="utf-8"))
HAZARDS = LOG["hazards"]

SEVERITIES = ("minor", "significant", "considerable", "major", "catastrophic")
LIKELIHOODS = ("very low", "low", "medium", "high", "very high")
FIELDS = {
    "id",
    "title",
    "cause",
    "effect",
    "harm",
    "initial_risk",
    "controls",
    "residual_risk",
    "residual_note",
}


@cache
def _test_functions(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return frozenset(
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    )


def _references() -> list[tuple[str, str]]:
    return [
        (hazard["id"], ref)
        for hazard in HAZARDS
        for control in hazard["controls"]
        for ref in control["tests"]
    ]


REFERENCES = _references()


def test_every_hazard_is_complete():
    ids = [h["id"] for h in HAZARDS]
    assert len(ids) == len(set(ids)) and len(ids) >= 8
    for hazard in HAZARDS:
        assert FIELDS <= set(hazard), (hazard["id"], FIELDS - set(hazard))
        for key in ("initial_risk", "residual_risk"):
            risk = hazard[key]
            assert risk["severity"] in SEVERITIES, (hazard["id"], key)
            assert risk["likelihood"] in LIKELIHOODS, (hazard["id"], key)
            assert 1 <= risk["rating"] <= 5, (hazard["id"], key)
        assert hazard["residual_risk"]["rating"] <= hazard["initial_risk"]["rating"]
        assert hazard["controls"], hazard["id"]
        for control in hazard["controls"]:
            assert control["control"].strip() and control["tests"], hazard["id"]


@pytest.mark.parametrize(("hazard", "ref"), REFERENCES, ids=[f"{h} {r}" for h, r in REFERENCES])
def test_every_control_names_a_test_that_exists(hazard, ref):
    path, sep, name = ref.partition("::")
    assert sep and path.startswith("tests/") and path.endswith(".py"), f"{hazard}: {ref!r}"
    file = ROOT / path
    assert file.is_file(), f"{hazard}: no file {path}"
    assert name in _test_functions(file), f"{hazard}: no test function {name} in {path}"


def test_the_safety_case_report_covers_every_hazard():
    report = (LOG_PATH.parent / "safety-case-report.md").read_text(encoding="utf-8")
    for hazard in HAZARDS:
        assert f"| {hazard['id']} |" in report, hazard["id"]
    for section in ("Intended use", "Not a diagnostic device", "Not monitored around the clock"):
        assert section in report


def test_the_checker_notices_a_missing_test():
    assert "test_every_control_names_a_test_that_exists" in _test_functions(Path(__file__))
    assert "test_no_such_thing" not in _test_functions(Path(__file__))
