"""Apps, their bot tokens (by hash) and their bot users."""

from __future__ import annotations

from typing import cast

from pynamodb.exceptions import TransactWriteError

from parley.adapters.dynamodb.base import (
    cancelled_by_condition,
    conditional,
    get_or_none,
    transaction,
)
from parley.adapters.dynamodb.items import (
    AppItem,
    BotTokenItem,
    CommandNameItem,
    UserItem,
    WorkspaceMemberItem,
)
from parley.adapters.dynamodb.records import to_item
from parley.adapters.dynamodb.users import user_key
from parley.adapters.dynamodb.workspaces import member_item, member_key
from parley.domain.ports.apps import CommandTaken, TokenChanged
from parley.domain.records import AppRecord, BotTokenRecord, UserRecord, WorkspaceMemberRecord


def app_key(app_id: str) -> tuple[str, str]:
    return f"APP#{app_id}", "APP"


def token_key(token_hash: str) -> tuple[str, str]:
    return f"BOTTOKEN#{token_hash}", "TOKEN"


def token_item(app: AppRecord, token_hash: str) -> BotTokenItem:
    return BotTokenItem(
        *token_key(token_hash),
        appId=app.appId,
        workspaceId=app.workspaceId,
        botUserId=app.botUserId,
        scopes=list(app.scopes),
        scopeNames=app.scopeNames,
    )


def app_item(app: AppRecord) -> AppItem:
    """The item of a new app, listed in its workspace (GSI1 APPS#<wid> / <appId>)."""
    return to_item(
        app, AppItem, *app_key(app.appId), GSI1PK=f"APPS#{app.workspaceId}", GSI1SK=app.appId
    )


def app_record(item: AppItem) -> AppRecord:
    return AppRecord(
        appId=item.appId,
        workspaceId=item.workspaceId,
        name=item.name,
        botUserId=item.botUserId,
        signingSecret=item.signingSecret,
        createdBy=item.createdBy,
        createdAt=item.createdAt,
        scopes=tuple(str(scope) for scope in item.scopes or ()),
        scopeNames=int(item.scopeNames) if item.scopeNames is not None else None,
        eventsUrl=item.eventsUrl,
        commands=tuple(str(command) for command in item.commands or ()),
        commandUrl=item.commandUrl,
        tokenHash=item.tokenHash,
        events=tuple(str(event) for event in item.events or ()),
        eventsVerifiedUrl=item.eventsVerifiedUrl,
        eventsFailures=int(item.eventsFailures or 0),
        eventsPaused=bool(item.eventsPaused),
        eventsPausedReason=item.eventsPausedReason,
    )


def command_key(workspace_id: str, command: str) -> tuple[str, str]:
    return f"WS#{workspace_id}", f"CMD#{command}"


def _claim(app: AppRecord, command: str) -> CommandNameItem:
    return CommandNameItem(*command_key(app.workspaceId, command), appId=app.appId)


def _raise_taken(error: TransactWriteError, first_claim: int, claims: list[str]) -> None:
    """CommandTaken for the first claim whose condition failed; `first_claim` is its index
    in the transaction (pynamodb sends deletes, then puts, then updates)."""
    for offset, command in enumerate(claims):
        if cancelled_by_condition(error, first_claim + offset):
            raise CommandTaken(command) from None


def create_app(app: AppRecord, bot: UserRecord, bot_member: WorkspaceMemberRecord) -> None:
    """The app, its token's look-up item, its bot's profile and membership and its command
    claims: all or nothing; CommandTaken if another app claimed one of its commands."""
    assert app.tokenHash is not None
    commands = list(app.commands)
    try:
        with transaction() as tx:
            tx.save(app_item(app), condition=AppItem.PK.does_not_exist())
            tx.save(token_item(app, app.tokenHash), condition=BotTokenItem.PK.does_not_exist())
            tx.save(
                to_item(bot, UserItem, *user_key(bot.userId)),
                condition=UserItem.PK.does_not_exist(),
            )
            tx.save(member_item(bot_member), condition=WorkspaceMemberItem.PK.does_not_exist())
            for command in commands:
                tx.save(_claim(app, command), condition=CommandNameItem.PK.does_not_exist())
    except TransactWriteError as error:
        _raise_taken(error, 4, commands)
        raise


def get_app(app_id: str) -> AppRecord | None:
    item = get_or_none(AppItem, *app_key(app_id))
    return app_record(item) if item is not None else None


def list_apps(workspace_id: str) -> list[AppRecord]:
    return [app_record(item) for item in AppItem.gsi1.query(f"APPS#{workspace_id}")]


def get_token(token_hash: str) -> BotTokenRecord | None:
    item = get_or_none(BotTokenItem, *token_key(token_hash))
    if item is None:
        return None
    return BotTokenRecord(
        appId=item.appId,
        workspaceId=item.workspaceId,
        botUserId=item.botUserId,
        scopes=tuple(str(scope) for scope in item.scopes or ()),
        scopeNames=int(item.scopeNames) if item.scopeNames is not None else None,
    )


def replace_token(app: AppRecord, new_hash: str | None) -> None:
    """Drops the app's current token (if any) and installs `new_hash` (if any) in one
    transaction, so a rotation never leaves both tokens valid or neither; conditioned on the
    token the caller read, so two racing rotations cannot both win."""
    try:
        _replace_token(app, new_hash)
    except TransactWriteError:
        current = get_app(app.appId)
        if current is None or current.tokenHash != app.tokenHash:
            raise TokenChanged from None
        raise


def _replace_token(app: AppRecord, new_hash: str | None) -> None:
    with transaction() as tx:
        if app.tokenHash is not None:
            tx.delete(BotTokenItem(*token_key(app.tokenHash)))
        if new_hash is not None:
            tx.save(token_item(app, new_hash), condition=BotTokenItem.PK.does_not_exist())
        tx.update(
            AppItem(*app_key(app.appId)),
            actions=[AppItem.tokenHash.set(new_hash) if new_hash else AppItem.tokenHash.remove()],
            condition=AppItem.tokenHash == app.tokenHash
            if app.tokenHash
            else AppItem.tokenHash.does_not_exist(),
        )


def delete_app(app: AppRecord) -> None:
    """The app and its token go; the bot user stays, so its messages keep an author, but it
    leaves the workspace."""
    with transaction() as tx:
        tx.delete(AppItem(*app_key(app.appId)))
        if app.tokenHash is not None:
            tx.delete(BotTokenItem(*token_key(app.tokenHash)))
        tx.delete(WorkspaceMemberItem(*member_key(app.workspaceId, app.botUserId)))
        for command in app.commands:
            tx.delete(
                CommandNameItem(*command_key(app.workspaceId, command)),
                condition=CommandNameItem.appId == app.appId,
            )


def update_app(app: AppRecord, changes: dict[str, object]) -> AppRecord:
    """Sets the attributes named in `changes` (None removes one) and returns the app as it
    now is. New commands are claimed and dropped ones released in the same transaction;
    CommandTaken if another app claimed one first."""
    actions = [
        getattr(AppItem, name).remove() if value is None else getattr(AppItem, name).set(value)
        for name, value in changes.items()
    ]
    if not actions:
        return app
    item = AppItem(*app_key(app.appId))
    before = set(app.commands)
    after = set(cast(list[str], changes["commands"])) if "commands" in changes else before
    if after == before:
        item.update(actions=actions, condition=AppItem.PK.exists())
        return app_record(item)
    released, claimed = sorted(before - after), sorted(after - before)
    try:
        with transaction() as tx:
            for command in released:
                tx.delete(
                    CommandNameItem(*command_key(app.workspaceId, command)),
                    condition=CommandNameItem.appId == app.appId,
                )
            for command in claimed:
                tx.save(_claim(app, command), condition=CommandNameItem.PK.does_not_exist())
            # Conditioned on the commands read, so two racing changes cannot both win.
            unchanged = AppItem.commands == sorted(before)
            if not before:
                unchanged = unchanged | AppItem.commands.does_not_exist()
            tx.update(item, actions=actions, condition=unchanged)
    except TransactWriteError as error:
        _raise_taken(error, len(released), claimed)
        raise
    item.refresh()
    return app_record(item)


# ------------------------------------------------------------------ Events API delivery state


def url_verified(app_id: str, url: str) -> None:
    AppItem(*app_key(app_id)).update(
        actions=[AppItem.eventsVerifiedUrl.set(url)], condition=AppItem.PK.exists()
    )


def events_delivered(app_id: str) -> None:
    """Resets the consecutive failure count (written only when it is not already zero)."""
    conditional(
        lambda: AppItem(*app_key(app_id)).update(
            actions=[AppItem.eventsFailures.set(0)], condition=AppItem.eventsFailures > 0
        )
    )


def event_lost(app_id: str) -> int:
    item = AppItem(*app_key(app_id))
    item.update(actions=[AppItem.eventsFailures.add(1)], condition=AppItem.PK.exists())
    return int(item.eventsFailures or 0)


def pause_events(app_id: str, reason: str) -> None:
    AppItem(*app_key(app_id)).update(
        actions=[AppItem.eventsPaused.set(True), AppItem.eventsPausedReason.set(reason)],
        condition=AppItem.PK.exists(),
    )


def resume_events(app_id: str) -> None:
    AppItem(*app_key(app_id)).update(
        actions=[
            AppItem.eventsPaused.set(False),
            AppItem.eventsFailures.set(0),
            AppItem.eventsPausedReason.remove(),
        ]
    )
