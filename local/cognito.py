"""Users of the local user pool: sign up, confirm, log in (what a client and an admin do)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str


class UserPool:
    def __init__(self, client: Any, pool_id: str, client_id: str) -> None:
        self._client = client
        self.pool_id = pool_id
        self.client_id = client_id

    def create_user(
        self, username: str, password: str, email: str, name: str | None = None
    ) -> None:
        """Signs the user up and confirms them, as API.md describes; an existing user is kept."""
        attributes = [{"Name": "email", "Value": email}]
        if name:
            attributes.append({"Name": "name", "Value": name})
        try:
            self._client.sign_up(
                ClientId=self.client_id,
                Username=username,
                Password=password,
                UserAttributes=attributes,
            )
        except self._client.exceptions.UsernameExistsException:
            return
        self._client.admin_confirm_sign_up(UserPoolId=self.pool_id, Username=username)

    def login(self, username: str, password: str) -> Tokens:
        reply = self._client.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        result = reply["AuthenticationResult"]
        return Tokens(result["IdToken"], result["AccessToken"], result["RefreshToken"])
