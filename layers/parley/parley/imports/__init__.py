"""Importing a Slack export: the zip read safely (archive), Slack's layout (slack_export) and
the mapping of its users, conversations and messages to Parley's (mapping). Pure code over a
seekable file; the import function supplies the file (S3 through ranged GETs) and the stores."""
