"""Profile look-up in the Cognito user pool, for tokens without an email claim."""

from __future__ import annotations

from typing import Any


class UserPool:
    def __init__(self, user_pool_id: str, region: str) -> None:
        self._user_pool_id = user_pool_id
        self._region = region
        self._client: Any = None

    def profile(self, username: str) -> tuple[str | None, str | None]:
        """(name, email) of the user, or (None, None) if the pool does not know them."""
        if self._client is None:
            import boto3

            self._client = boto3.client("cognito-idp", region_name=self._region)
        try:
            user = self._client.admin_get_user(UserPoolId=self._user_pool_id, Username=username)
        except self._client.exceptions.UserNotFoundException:
            return None, None
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        return attributes.get("name"), attributes.get("email")
