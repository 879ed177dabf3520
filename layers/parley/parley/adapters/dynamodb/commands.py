"""Slash commands' response_urls (one item per token hash, spent one use at a time) and
their retry keys (one per clientMsgId)."""

from __future__ import annotations

from parley.adapters.dynamodb.base import conditional, epoch, get_or_none
from parley.adapters.dynamodb.items import CommandResponseItem, CommandRunItem
from parley.domain.records import CommandResponseRecord, CommandRunRecord

RUN_KEY_SECONDS = 24 * 3600  # as long as a message's retry key


def run_key(channel_id: str, user_id: str, client_msg_id: str) -> tuple[str, str]:
    return f"CH#{channel_id}", f"CMDRUN#{user_id}#{client_msg_id}"


def claim_run(
    channel_id: str, user_id: str, client_msg_id: str, now: int
) -> CommandRunRecord | None:
    """Claims the retry key for this run: None when it is this run's, else the earlier
    run (its `result` still None while that run waits for the app)."""
    key = run_key(channel_id, user_id, client_msg_id)
    item = CommandRunItem(*key, ttl=epoch(now + RUN_KEY_SECONDS))
    if conditional(lambda: item.save(condition=CommandRunItem.PK.does_not_exist())):
        return None
    earlier = get_or_none(CommandRunItem, *key, consistent=True)
    if earlier is None:  # released since: claim it again
        return claim_run(channel_id, user_id, client_msg_id, now)
    return CommandRunRecord(
        channelId=channel_id, userId=user_id, clientMsgId=client_msg_id, result=earlier.result
    )


def finish_run(channel_id: str, user_id: str, client_msg_id: str, result: str) -> None:
    CommandRunItem(*run_key(channel_id, user_id, client_msg_id)).update(
        actions=[CommandRunItem.result.set(result)]
    )


def release_run(channel_id: str, user_id: str, client_msg_id: str) -> None:
    """The run failed before the app answered (refused, rate limited): a retry may run."""
    CommandRunItem(*run_key(channel_id, user_id, client_msg_id)).delete()


# Kept past expiry a day, so that a late use still finds it and reads "expired" as 404.
_TTL_GRACE_SECONDS = 24 * 3600


def response_key(token_hash: str) -> tuple[str, str]:
    return f"CMDRESPONSE#{token_hash}", "RESPONSE"


def _response_record(item: CommandResponseItem, token_hash: str) -> CommandResponseRecord:
    return CommandResponseRecord(
        tokenHash=token_hash,
        appId=item.appId,
        workspaceId=item.workspaceId,
        channelId=item.channelId,
        userId=item.userId,
        botUserId=item.botUserId,
        command=item.command,
        expires=int(item.expires),
        threadTs=item.threadTs,
        uses=int(item.uses or 0),
        shownTs=item.shownTs,
        shownAs=item.shownAs,
    )


def create_response(response: CommandResponseRecord) -> None:
    item = CommandResponseItem(
        *response_key(response.tokenHash),
        appId=response.appId,
        workspaceId=response.workspaceId,
        channelId=response.channelId,
        threadTs=response.threadTs,
        userId=response.userId,
        botUserId=response.botUserId,
        command=response.command,
        uses=response.uses,
        expires=response.expires,
        ttl=epoch(response.expires + _TTL_GRACE_SECONDS),
        shownTs=response.shownTs,
        shownAs=response.shownAs,
    )
    item.save(condition=CommandResponseItem.PK.does_not_exist())


def use_response(token_hash: str, now: int, max_uses: int) -> CommandResponseRecord | None:
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
    return _response_record(item, token_hash) if spent else None


def get_response(token_hash: str) -> CommandResponseRecord | None:
    """The response_url's item, spent or not: why a use was refused (on that path only)."""
    item = get_or_none(CommandResponseItem, *response_key(token_hash), consistent=True)
    return _response_record(item, token_hash) if item is not None else None


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
