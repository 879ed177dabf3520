"""The Slack dialect: Slack's Web API, Events API, slash command and webhook shapes over
Parley's domain (DESIGN.md, "Two dialects, one domain"). Names, shapes and error codes are
translated here; every rule stays in `parley.domain`."""
