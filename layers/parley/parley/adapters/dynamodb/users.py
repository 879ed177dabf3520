"""User profiles, provisioned from token claims."""

from __future__ import annotations

from pynamodb.exceptions import PutError

from parley.adapters.dynamodb.base import batch_get, condition_failed, get_or_none
from parley.adapters.dynamodb.items import UserItem
from parley.adapters.dynamodb.records import to_record
from parley.domain.records import UserRecord


def user_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "PROFILE"


def email_key(user_id: str, email: str) -> tuple[str, str] | None:
    """The user's GSI1 keys: none without an email."""
    return (f"EMAIL#{email.lower()}", f"USER#{user_id}") if email else None


def get_user(user_id: str, index_email: bool = False) -> UserRecord | None:
    """The profile; with `index_email`, one made before the email index gets its GSI1 keys."""
    item = get_or_none(UserItem, *user_key(user_id))
    if item is None:
        return None
    if index_email and item.email and item.GSI1PK is None:  # made before the email index
        _index_email(item)
    return to_record(item, UserRecord)


def create_user_if_absent(user_id: str, name: str, email: str, created_at: str) -> UserRecord:
    by_email, user_sk = email_key(user_id, email) or (None, None)
    item = UserItem(
        *user_key(user_id),
        GSI1PK=by_email,
        GSI1SK=user_sk,
        userId=user_id,
        name=name,
        email=email,
        createdAt=created_at,
    )
    try:
        item.save(condition=UserItem.PK.does_not_exist())
    except PutError as error:
        if not condition_failed(error):
            raise
        existing = get_user(user_id)
        if existing is not None:
            return existing
    return to_record(item, UserRecord)


def get_users(user_ids: list[str]) -> dict[str, UserRecord]:
    found = batch_get(UserItem, [user_key(u) for u in user_ids])
    return {item.userId: to_record(item, UserRecord) for item in found}


def _index_email(item: UserItem) -> None:
    """Gives a profile made before the email index its GSI1 keys."""
    keys = email_key(item.userId, item.email)
    if keys is not None and keys[0] != item.GSI1PK:
        item.update(actions=[UserItem.GSI1PK.set(keys[0]), UserItem.GSI1SK.set(keys[1])])


def find_by_email(email: str) -> list[UserRecord]:
    """Every profile with this email (case folded), at most a few."""
    keys = email_key("", email)
    if keys is None:
        return []
    return [to_record(item, UserRecord) for item in UserItem.gsi1.query(keys[0], limit=25)]
