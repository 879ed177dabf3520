"""One version for the package (pyproject.toml), the template (its Description and its
Serverless Application Repository metadata), the OpenAPI and AsyncAPI documents and the
changelog; one licence for all of them."""

from __future__ import annotations

import json
import re
import tomllib

import yaml

from tests.functional.conftest import ROOT, template


def _project() -> dict[str, str]:
    project: dict[str, str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def versions() -> dict[str, str]:
    document = template()
    described = re.search(r"Parley (\d+\.\d+\.\d+)", document["Description"])
    return {
        "pyproject.toml": _project()["version"],
        "template.yaml Metadata": document["Metadata"]["AWS::ServerlessRepo::Application"][
            "SemanticVersion"
        ],
        "template.yaml Description": described.group(1) if described else "none",
        "docs/openapi.json": json.loads((ROOT / "docs" / "openapi.json").read_text())["info"][
            "version"
        ],
        "docs/asyncapi.yaml": yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())["info"][
            "version"
        ],
    }


def test_the_package_template_and_api_documents_agree_on_one_version() -> None:
    found = versions()
    assert re.fullmatch(r"\d+\.\d+\.\d+", found["pyproject.toml"])
    assert set(found.values()) == {found["pyproject.toml"]}, found


def test_the_changelog_names_the_version() -> None:
    version = _project()["version"]
    assert f"{version}" in (ROOT / "CHANGELOG.md").read_text()


def test_one_osi_licence_everywhere() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    sar = template()["Metadata"]["AWS::ServerlessRepo::Application"]
    asyncapi = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())["info"]["license"]
    assert _project()["license"] == sar["SpdxLicenseId"] == asyncapi["name"] == "Apache-2.0"
    assert (ROOT / sar["LicenseUrl"]).is_file()
    assert (ROOT / sar["ReadmeUrl"]).is_file()
