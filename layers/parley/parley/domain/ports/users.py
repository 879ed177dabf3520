"""The users port: user profiles."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import UserRecord


class UserRepository(Protocol):
    def get_user(self, user_id: str, index_email: bool = False) -> UserRecord | None:
        """The profile; None if there is none. With `index_email`, a profile made before
        the email index is given its place in it (a write only then)."""

    def get_users(self, user_ids: list[str]) -> dict[str, UserRecord]:
        """Those of the profiles that exist, by user id."""

    def create_user_if_absent(
        self, user_id: str, name: str, email: str, created_at: str
    ) -> UserRecord:
        """Stores the profile unless the user has one; the profile stored."""

    def find_by_email(self, email: str) -> list[UserRecord]:
        """Every profile with this email (case folded), at most a few."""


store: UserRepository = port("users")
