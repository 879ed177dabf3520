"""Configuration: read once from the environment, failing at cold start on a bad value."""

from __future__ import annotations

import dataclasses

import pytest

from parley.config import ConfigError, Settings
from tests.functional.conftest import template


def test_defaults_fill_what_the_environment_leaves_out() -> None:
    config = Settings.from_environ({"TABLE_NAME": "parley-dev-AppTable"})
    assert config.table_name == "parley-dev-AppTable"
    assert (config.region, config.presence_timeout_seconds) == ("us-east-1", 600)
    assert config.max_upload_bytes == 1024**3
    assert config.ws_management_endpoint is None


def test_integers_are_parsed_and_strings_kept() -> None:
    config = Settings.from_environ(
        {"TABLE_NAME": "t-table", "MAX_UPLOAD_BYTES": "2048", "OPENSEARCH_ENDPOINT": "h:443"}
    )
    assert (config.max_upload_bytes, config.opensearch_endpoint) == (2048, "h:443")


def test_the_events_retry_schedule_is_slacks_unless_set() -> None:
    assert Settings.from_environ({"TABLE_NAME": "tab"}).events_retry_delays == (0, 60, 300)
    config = Settings.from_environ({"TABLE_NAME": "tab", "EVENTS_RETRY_DELAYS": "0,1,2"})
    assert config.events_retry_delays == (0, 1, 2)


@pytest.mark.parametrize(
    ("environ", "complaint"),
    [
        ({}, "TABLE_NAME must be set"),
        ({"TABLE_NAME": "t"}, "at least 3"),
        ({"TABLE_NAME": "tab", "CONNECTION_TTL_SECONDS": "soon"}, "must be an integer"),
        ({"TABLE_NAME": "tab", "PRESENCE_TIMEOUT_SECONDS": "0"}, "must be positive"),
        ({"TABLE_NAME": "tab", "EVENTS_RETRY_DELAYS": "0,1m"}, "comma-separated seconds"),
        ({"TABLE_NAME": "tab", "EVENTS_RETRY_DELAYS": "0,60,901"}, "0 to 900"),
    ],
)
def test_a_bad_environment_fails_naming_the_variable(
    environ: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ConfigError, match=complaint):
        Settings.from_environ(environ)


def test_every_variable_the_template_gives_a_function_is_a_setting() -> None:
    """A variable in template.yaml that no field reads would be a silent typo."""
    read = {spec.metadata["env"] for spec in dataclasses.fields(Settings)}
    resources = template()["Resources"].values()
    given = {
        name
        for resource in resources
        if resource["Type"] == "AWS::Serverless::Function"
        for name in resource["Properties"].get("Environment", {}).get("Variables", {})
    }
    globals_ = template().get("Globals", {}).get("Function", {})
    given |= set(globals_.get("Environment", {}).get("Variables", {}))
    powertools = {name for name in given if name.startswith(("POWERTOOLS_", "AWS_"))}
    assert given - powertools - read == set()
