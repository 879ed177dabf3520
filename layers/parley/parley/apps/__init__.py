"""Apps: bot tokens, webhook tokens and signing secrets (pure functions, no I/O)."""
