"""The apps port: apps, their bot tokens and their slash command names."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import AppRecord, BotTokenRecord, UserRecord, WorkspaceMemberRecord


class CommandTaken(Exception):
    """Another app of the workspace claimed the slash command first."""

    def __init__(self, command: str) -> None:
        super().__init__(command)
        self.command = command


class TokenChanged(Exception):
    """Another request rotated or revoked the token first."""


class AppRepository(Protocol):
    """Apps, their bot tokens and their slash command names."""

    def create_app(
        self, app: AppRecord, bot: UserRecord, bot_member: WorkspaceMemberRecord
    ) -> None:
        """The app (with its `tokenHash`), its token's look-up, its bot's profile and
        workspace membership and its command names, all or nothing; CommandTaken if another
        app claimed one of its commands."""

    def get_app(self, app_id: str) -> AppRecord | None: ...

    def list_apps(self, workspace_id: str) -> list[AppRecord]:
        """Every app of the workspace."""

    def get_token(self, token_hash: str) -> BotTokenRecord | None:
        """The bot behind a token's hash; None for an unknown, revoked or rotated-away one."""

    def replace_token(self, app: AppRecord, new_hash: str | None) -> None:
        """Drops the app's current token (if any) and installs `new_hash` (if any) at once;
        TokenChanged if the token is no longer the one `app` was read with."""

    def delete_app(self, app: AppRecord) -> None:
        """The app, its token and its command names go, and its bot leaves the workspace
        (the bot's profile stays, so its messages keep an author)."""

    def update_app(self, app: AppRecord, changes: dict[str, object]) -> AppRecord:
        """The app with the attributes named in `changes` set (None removes one); new
        commands claimed and dropped ones released with it, CommandTaken if another app
        claimed one first (or the commands changed since `app` was read)."""

    def url_verified(self, app_id: str, url: str) -> None:
        """Records the events URL that passed the challenge."""

    def events_delivered(self, app_id: str) -> None:
        """Resets the consecutive lost events count (written only when not zero)."""

    def event_lost(self, app_id: str) -> int:
        """Counts a lost event; the consecutive count now."""

    def pause_events(self, app_id: str, reason: str) -> None:
        """Stops deliveries to the app until resumed."""

    def resume_events(self, app_id: str) -> None:
        """Deliveries start again, the lost events count at zero."""


store: AppRepository = port("apps")
