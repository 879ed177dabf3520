"""The commands port: slash command runs and their response_url tokens."""

from __future__ import annotations

from typing import Protocol

from parley.domain.ports import port
from parley.domain.records import CommandResponseRecord, CommandRunRecord


class CommandRepository(Protocol):
    """Slash command runs and their response_url tokens."""

    def claim_run(
        self, channel_id: str, user_id: str, client_msg_id: str, now: int
    ) -> CommandRunRecord | None:
        """Claims the run of a command sent with this clientMsgId (for a day): None when
        it is this run's, else the earlier run (its `result` None while it waits for the
        app)."""

    def finish_run(self, channel_id: str, user_id: str, client_msg_id: str, result: str) -> None:
        """Keeps the run's result (a CommandResult as JSON) for its retries."""

    def release_run(self, channel_id: str, user_id: str, client_msg_id: str) -> None:
        """Drops the claim of a run that failed before its app answered: a retry may run."""

    def create_response(self, response: CommandResponseRecord) -> None:
        """Stores a new response_url under its token's hash, kept a day past `expires`."""

    def use_response(
        self, token_hash: str, now: int, max_uses: int
    ) -> CommandResponseRecord | None:
        """Spends one use, atomically; None when unknown, expired or used `max_uses` times."""

    def get_response(self, token_hash: str) -> CommandResponseRecord | None:
        """The response_url, spent or not (read consistently)."""

    def record_shown(self, token_hash: str, shown: tuple[str, str] | None) -> None:
        """The command's last answer: its ts and "ephemeral" or "in_channel"; None, none."""


store: CommandRepository = port("commands")
