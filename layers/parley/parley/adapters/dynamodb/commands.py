"""Slash commands' response_urls (one item per token hash, spent one use at a time) and
their retry keys (one per clientMsgId)."""

from __future__ import annotations

from parley.adapters.dynamodb.base import conditional, epoch, get_or_none
from parley.adapters.dynamodb.items import CommandResponseItem, CommandRunItem

RUN_KEY_SECONDS = 24 * 3600  # as long as a message's retry key


def run_key(channel_id: str, user_id: str, client_msg_id: str) -> tuple[str, str]:
    return f"CH#{channel_id}", f"CMDRUN#{user_id}#{client_msg_id}"


def claim_run(key: tuple[str, str], now: int) -> CommandRunItem | None:
    """Claims the retry key for this run: None when it is this run's, else the earlier
    run's item (its `result` still None while that run waits for the app)."""
    item = CommandRunItem(*key, ttl=epoch(now + RUN_KEY_SECONDS))
    if conditional(lambda: item.save(condition=CommandRunItem.PK.does_not_exist())):
        return None
    return get_or_none(CommandRunItem, *key, consistent=True) or claim_run(key, now)


def finish_run(key: tuple[str, str], result_json: str) -> None:
    CommandRunItem(*key).update(actions=[CommandRunItem.result.set(result_json)])


def release_run(key: tuple[str, str]) -> None:
    """The run failed before the app answered (refused, rate limited): a retry may run."""
    CommandRunItem(*key).delete()


# Kept past expiry a day, so that a late use still finds it and reads "expired" as 404.
_TTL_GRACE_SECONDS = 24 * 3600


def response_key(token_hash: str) -> tuple[str, str]:
    return f"CMDRESPONSE#{token_hash}", "RESPONSE"


def create_response(item: CommandResponseItem) -> None:
    item.ttl = epoch(int(item.expires) + _TTL_GRACE_SECONDS)
    item.save(condition=CommandResponseItem.PK.does_not_exist())


def use_response(token_hash: str, now: int, max_uses: int) -> CommandResponseItem | None:
    """Spends one use of the response_url, atomically: None when it is unknown, expired or
    used up (one conditional UpdateItem, so concurrent uses cannot exceed `max_uses`)."""
    item = CommandResponseItem(*response_key(token_hash))
    spent = conditional(
        lambda: item.update(
            actions=[CommandResponseItem.uses.add(1)],
            condition=CommandResponseItem.PK.exists()
            & (CommandResponseItem.expires > now)
            & (CommandResponseItem.uses < max_uses),
        )
    )
    return item if spent else None


def get_response(token_hash: str) -> CommandResponseItem | None:
    """The response_url's item, spent or not: why a use was refused (on that path only)."""
    return get_or_none(CommandResponseItem, *response_key(token_hash), consistent=True)


def record_shown(token_hash: str, shown: tuple[str, str] | None) -> None:
    """The command's last answer (its ts, and `ephemeral` or `in_channel`), or none."""
    item = CommandResponseItem(*response_key(token_hash))
    if shown is None:
        item.update(
            actions=[CommandResponseItem.shownTs.remove(), CommandResponseItem.shownAs.remove()]
        )
        return
    ts, shown_as = shown
    item.update(
        actions=[CommandResponseItem.shownTs.set(ts), CommandResponseItem.shownAs.set(shown_as)]
    )
