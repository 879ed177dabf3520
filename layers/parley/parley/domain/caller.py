"""The authenticated user behind a request, as the edge learned it from a token."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    user_id: str
    username: str | None = None
    name: str | None = None
    email: str | None = None
    connection_id: str | None = None  # set when the request came over a WebSocket
    # Set for an app's bot (from its token): the app, the workspace the token is confined
    # to, and what the token may do.
    app_id: str | None = None
    workspace_id: str | None = None
    scopes: frozenset[str] = frozenset()

    @property
    def is_bot(self) -> bool:
        return self.app_id is not None

    @classmethod
    def from_claims(cls, claims: dict[str, object]) -> Caller:
        """ID tokens carry email and name; access tokens only `username`."""

        def text(key: str) -> str | None:
            value = claims.get(key)
            return value if isinstance(value, str) and value else None

        return cls(
            user_id=str(claims["sub"]),
            username=text("cognito:username") or text("username"),
            name=text("name"),
            email=text("email"),
        )
