"""cfn-lint and `sam validate --lint` on the template, and on a broken copy to show that
a failure reaches the test."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from cfn_template import ROOT, Template, rule_violations

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


# cfn-lint (1.58) reads a SAM function through SAM's schema, which leaves the function's
# Policies and Events unchecked, and every environment variable whose name has an underscore
# (its pattern is ^[a-zA-Z0-9]+$, extra names allowed): a Ref, GetAtt or Sub naming nothing
# there passes template.yaml's lint. After the SAM transform they are an
# AWS::Lambda::Function's Environment, its role's policies and an event source mapping's
# EventSourceArn, which the same rules check: E1010 (GetAtt), E1019 (Sub), E1020 (Ref).
SAM_BLIND_SPOTS = {
    "Ref in a function's environment": (
        ("JWT_AUDIENCE: !Ref UserPoolClient", "JWT_AUDIENCE: !Ref UserPoolClent"),
        ("E1020", "'UserPoolClent'"),
    ),
    "Ref in the functions' Globals": (
        ("TABLE_NAME: !Ref AppTable", "TABLE_NAME: !Ref AppTabel"),
        ("E1020", "'AppTabel'"),
    ),
    "attribute in a Sub of a function's environment": (
        ("amazonaws.com/${UserPool}/.well-known", "amazonaws.com/${UserPool.Url}/.well-known"),
        ("E1019", "'Url'"),
    ),
    "attribute in a function's policy": (
        ("Resource: !GetAtt AppTable.Arn\n", "Resource: !GetAtt AppTable.Arm\n"),
        ("E1010", "'Arm'"),
    ),
    "Ref in a function's policies": (
        ("- !Ref FanOutPolicy\n", "- !Ref FanOutPolcy\n"),
        ("E1020", "'FanOutPolcy'"),
    ),
    "attribute in a function's event": (
        ("Stream: !GetAtt AppTable.StreamArn", "Stream: !GetAtt AppTable.StreamArm"),
        ("E1010", "'StreamArm'"),
    ),
}


def test_cfn_lint_passes_the_sam_transform_and_sees_into_the_functions_there(
    transformed: Path, sam_transform: Callable[[Path, Path], Path], tmp_path: Path
) -> None:
    text = (ROOT / "template.yaml").read_text()
    for (old, new), _ in SAM_BLIND_SPOTS.values():
        assert old in text, f"pick another breakage: the template changed ({old})"
        text = text.replace(old, new, 1)
    (tmp_path / "broken.yaml").write_text(text)
    broken = sam_transform(tmp_path / "broken.yaml", tmp_path / "broken.json")
    result = subprocess.run(  # noqa: S603 -- the project's cfn-lint, no shell
        [str(CFN_LINT), "--format", "parseable", "--", str(transformed), str(broken)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    lines = result.stdout.splitlines()
    # The transform's own output may draw warnings (a Sub it resolved, say); errors it may not.
    assert [line for line in lines if line.startswith(f"{transformed}:") and ":E" in line] == []
    missed = [
        case
        for case, (_, (rule, name)) in SAM_BLIND_SPOTS.items()
        if not any(line.startswith(f"{broken}:") and f":{rule}:{name}" in line for line in lines)
    ]
    assert missed == [], result.stdout + result.stderr


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
    stage_pattern = template.parameters["Stage"]["AllowedPattern"]
    for env in ("dev", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        assert deploy["stack_name"] == f"parley-{env}"
        overrides = dict(item.split("=", 1) for item in shlex.split(deploy["parameter_overrides"]))
        assert overrides["Stage"] == env
        assert set(overrides) <= set(template.parameters)
        assert rule_violations(template, overrides) == [], f"{env}: the template's rules refuse it"
        assert re.fullmatch(stage_pattern, env)
        assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
        assert deploy["resolve_s3"] is True
        assert config[env]["global"]["parameters"]["region"] == "us-east-1"
        assert config[env]["build"]["parameters"] == {"cached": True, "parallel": True}
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True
    assert config["default"]["build"]["parameters"] == {"cached": True, "parallel": True}
