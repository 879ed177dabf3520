"""Identity: verifying Cognito JWTs, and profile look-ups in the user pool."""
