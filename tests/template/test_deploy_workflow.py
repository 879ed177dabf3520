""".github/workflows/deploy.yml: tests first, then `sam build` and `sam deploy --config-env`
for environments samconfig.toml has, with AWS credentials from GitHub's OIDC token only."""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from cfn_template import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials@"
CONFIG_ENV = re.compile(r"--config-env\s+(\S+)")
Workflow = dict[str, Any]
Job = dict[str, Any]


def load() -> Workflow:
    document: Workflow = yaml.safe_load(WORKFLOW.read_text())
    if True in document:  # YAML 1.1 reads the bare key `on` as true
        document["on"] = document.pop(True)
    return document


def deploy_environments() -> set[str]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    return {name for name, env in config.items() if isinstance(env, dict) and "deploy" in env}


def _runs(job: Job) -> list[str]:
    return [str(step.get("run", "")) for step in job.get("steps", [])]


def _upstream(jobs: dict[str, Job], name: str) -> set[str]:
    """Every job `name` waits for, directly or not."""
    found: set[str] = set()
    pending = [name]
    while pending:
        needs = jobs[pending.pop()].get("needs", [])
        for job in [needs] if isinstance(needs, str) else needs:
            if job not in found:
                found.add(job)
                pending.append(job)
    return found


def _first(runs: list[str], pattern: str) -> int | None:
    return next((i for i, run in enumerate(runs) if re.search(pattern, run)), None)


def deploy_job_problems(name: str, job: Job, environments: set[str]) -> list[str]:
    found = []
    if (job.get("permissions") or {}).get("id-token") != "write":
        found.append(f"{name}: no `id-token: write` for the OIDC role")
    credentials = [
        step.get("with") or {}
        for step in job.get("steps", [])
        if str(step.get("uses", "")).startswith(CREDENTIALS_ACTION)
    ]
    if not any("role-to-assume" in given for given in credentials):
        found.append(f"{name}: no {CREDENTIALS_ACTION} with role-to-assume")
    if any(key.startswith("aws-") and "key" in key for given in credentials for key in given):
        found.append(f"{name}: stored access keys instead of the OIDC role")
    runs = _runs(job)
    build, deploy = _first(runs, r"\b(sam|make) build\b"), _first(runs, r"\bsam deploy\b")
    if build is None or deploy is None or build > deploy:
        found.append(f"{name}: does not build before it deploys")
    env = CONFIG_ENV.search(runs[deploy]) if deploy is not None else None
    if env is None:
        return [*found, f"{name}: `sam deploy` without --config-env"]
    if env.group(1) not in environments:
        found.append(f"{name}: samconfig.toml has no deploy environment {env.group(1)}")
    environment = job.get("environment")
    if isinstance(environment, dict):
        environment = environment.get("name")
    if environment != env.group(1):
        found.append(f"{name}: its GitHub environment is not {env.group(1)}")
    return found


def problems(workflow: Workflow) -> list[str]:
    found: list[str] = []
    jobs: dict[str, Job] = workflow.get("jobs", {})
    if "push" not in (workflow.get("on") or {}):
        found.append("the workflow does not run on push")
    if workflow.get("permissions") != {"contents": "read"}:
        found.append("the workflow's default permissions must be contents: read alone")
    tests = {name for name, job in jobs.items() if _first(_runs(job), r"\bmake test\b") is not None}
    deploys = {
        name for name, job in jobs.items() if _first(_runs(job), r"\bsam deploy\b") is not None
    }
    if not tests or not deploys:
        found.append("no job runs `make test`, or none runs `sam deploy`")
    for name in sorted(deploys):
        if not tests & _upstream(jobs, name):
            found.append(f"{name}: deploys without needing the tests first")
        found += deploy_job_problems(name, jobs[name], deploy_environments())
    for name in sorted(set(jobs) - deploys):
        if (jobs[name].get("permissions") or {}).get("id-token"):
            found.append(f"{name}: an OIDC token for a job that does not deploy")
    return found


def test_the_workflow_tests_then_builds_and_deploys_every_environment_with_oidc() -> None:
    workflow = load()
    assert problems(workflow) == []
    jobs = workflow["jobs"]
    deployed = {
        m.group(1) for job in jobs.values() for r in _runs(job) if (m := CONFIG_ENV.search(r))
    }
    assert deployed == deploy_environments() == {"dev", "prod"}
    assert {"test", "deploy-dev"} <= _upstream(jobs, "deploy-prod")


def _step(job: Job, uses: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if str(s.get("uses", "")).startswith(uses))


def _replace_run(job: Job, pattern: str, run: str) -> None:
    for step in job["steps"]:
        if re.search(pattern, str(step.get("run", ""))):
            step["run"] = run


Mutation = Callable[[Workflow], None]
BROKEN: dict[str, Mutation] = {
    "deploy not needing the tests": lambda w: w["jobs"]["deploy-dev"].pop("needs"),
    "no id-token permission": lambda w: w["jobs"]["deploy-prod"]["permissions"].pop("id-token"),
    "id-token for the test job": lambda w: w["jobs"]["test"].update(
        permissions={"id-token": "write"}
    ),
    "id-token for every job": lambda w: w["permissions"].update({"id-token": "write"}),
    "stored keys": lambda w: _step(w["jobs"]["deploy-dev"], CREDENTIALS_ACTION).update(
        {"with": {"role-to-assume": "arn:r", "aws-access-key-id": "${{ secrets.KEY }}"}}
    ),
    "no build": lambda w: _replace_run(w["jobs"]["deploy-dev"], r"make build", "echo"),
    "an environment samconfig lacks": lambda w: _replace_run(
        w["jobs"]["deploy-prod"], r"sam deploy", "sam deploy --config-env staging"
    ),
    "no config env": lambda w: _replace_run(
        w["jobs"]["deploy-dev"], r"sam deploy", "sam deploy --stack-name parley-dev"
    ),
    "the wrong GitHub environment": lambda w: w["jobs"]["deploy-prod"].update(environment="dev"),
    "no tests": lambda w: _replace_run(w["jobs"]["test"], r"make test", "make lint"),
}


@pytest.mark.parametrize("mutate", BROKEN.values(), ids=BROKEN.keys())
def test_the_workflow_check_catches(mutate: Mutation) -> None:
    workflow = copy.deepcopy(load())
    mutate(workflow)
    assert workflow != load()
    assert problems(workflow) != []
