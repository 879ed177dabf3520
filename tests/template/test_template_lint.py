"""cfn-lint and `sam validate --lint` on the template, and on a broken copy to show that
a failure reaches the test."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from cfn_template import ROOT, Template

CFN_LINT = Path(sys.executable).parent / "cfn-lint"
# A mistake both linters know: BillingMode must be PAY_PER_REQUEST or PROVISIONED.
BREAKAGE = ("BillingMode: PAY_PER_REQUEST", "BillingMode: FREE_TIER")


@pytest.fixture(scope="module")
def broken_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = (ROOT / "template.yaml").read_text()
    assert BREAKAGE[0] in text, "pick another breakage: the template changed"
    path = tmp_path_factory.mktemp("broken") / "template.yaml"
    path.write_text(text.replace(*BREAKAGE))
    return path


def test_cfn_lint_passes_the_template_and_fails_a_broken_copy(broken_template: Path) -> None:
    result = subprocess.run(  # noqa: S603 -- the project's cfn-lint, no shell
        [str(CFN_LINT), "--format", "parseable", "--", "template.yaml", str(broken_template)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("template.yaml:")] == []
    assert any(line.startswith(str(broken_template)) and "E3030" in line for line in lines), (
        result.stdout + result.stderr
    )
    assert result.returncode != 0


def test_sam_validate_lint_passes_the_template_and_fails_a_broken_copy(
    sam: Path, sam_env: dict[str, str], broken_template: Path
) -> None:
    def validate(template: Path) -> subprocess.Popen[str]:
        return subprocess.Popen(  # noqa: S603 -- the project's SAM CLI, no shell
            [str(sam), "validate", "--lint", "--template-file", str(template)],
            cwd=ROOT,
            env=sam_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    real, broken = validate(ROOT / "template.yaml"), validate(broken_template)
    real_output, _ = real.communicate(timeout=300)
    broken_output, _ = broken.communicate(timeout=300)
    assert real.returncode == 0, real_output
    assert "is a valid SAM Template" in real_output
    assert broken.returncode != 0, broken_output


def test_samconfig_deploys_dev_and_prod_to_their_own_stacks_and_stages(
    template: Template,
) -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    stages = template["Parameters"]["Stage"]["AllowedValues"]
    for env in ("dev", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        assert deploy["stack_name"] == f"parley-{env}"
        assert deploy["parameter_overrides"] == f"Stage={env}"
        assert env in stages
        assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
        assert deploy["resolve_s3"] is True
        assert config[env]["global"]["parameters"]["region"] == "us-east-1"
        assert config[env]["build"]["parameters"] == {"cached": True, "parallel": True}
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True
    assert config["default"]["build"]["parameters"] == {"cached": True, "parallel": True}
