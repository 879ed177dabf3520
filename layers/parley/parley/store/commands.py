"""Slash commands' response_urls: one item per token hash, spent one use at a time."""

from __future__ import annotations

from parley.store.base import conditional, epoch
from parley.store.items import CommandResponseItem

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
