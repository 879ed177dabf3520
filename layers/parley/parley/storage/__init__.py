"""Object storage adapters: the only code that talks to S3."""
