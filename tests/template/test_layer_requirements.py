"""layers/parley/requirements.txt pins exactly what uv.lock resolves for the runtime."""

from __future__ import annotations

import pytest
from cfn_template import ROOT
from layer_checks import parse_pins, pin_drift, unsatisfied_project_dependencies

REQUIREMENTS = ROOT / "layers" / "parley" / "requirements.txt"
LOCK = (ROOT / "uv.lock").read_text()
PYPROJECT = (ROOT / "pyproject.toml").read_text()
REGENERATE = (
    "regenerate: .tools/uv/bin/uv export --no-dev --no-hashes --frozen --no-emit-project "
    "-o layers/parley/requirements.txt"
)


def test_layer_requirements_pin_exactly_the_locked_runtime_dependencies() -> None:
    assert pin_drift(REQUIREMENTS.read_text(), LOCK) == [], REGENERATE


def test_layer_requirements_satisfy_pyproject_dependencies() -> None:
    assert unsatisfied_project_dependencies(REQUIREMENTS.read_text(), PYPROJECT) == []


PIN_DRIFTS = {
    "version differs": ("pydantic==2.14.4", "pydantic==2.14.3"),
    "transitive pin missing": ("pydantic-core==2.50.5", ""),
    "pin the lock does not have": ("six==1.17.0", "six==1.17.0\npyyaml==6.0.4"),
}


@pytest.mark.parametrize("edit", PIN_DRIFTS.values(), ids=PIN_DRIFTS.keys())
def test_pin_check_catches_drift_from_the_lock(edit: tuple[str, str]) -> None:
    text = REQUIREMENTS.read_text()
    assert edit[0] in text, "pick another pin: requirements.txt changed"
    assert pin_drift(text.replace(*edit), LOCK) != []


def test_pin_check_catches_a_pyproject_dependency_left_out() -> None:
    text = REQUIREMENTS.read_text()
    assert "pyjwt==" in text
    without = "\n".join(line for line in text.splitlines() if not line.startswith("pyjwt=="))
    assert unsatisfied_project_dependencies(without, PYPROJECT) != []


@pytest.mark.parametrize("line", ["pydantic>=2.14", "pydantic", "-e ./layers/parley"])
def test_requirements_must_be_exact_pins(line: str) -> None:
    with pytest.raises(ValueError, match="not an exact pin"):
        parse_pins(line)
