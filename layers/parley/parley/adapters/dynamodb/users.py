"""User profiles, provisioned from token claims."""

from __future__ import annotations

from pynamodb.exceptions import PutError

from parley.adapters.dynamodb.base import batch_get, condition_failed, get_or_none
from parley.adapters.dynamodb.items import UserItem


def user_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "PROFILE"


def get_user(user_id: str) -> UserItem | None:
    return get_or_none(UserItem, *user_key(user_id))


def email_key(user_id: str, email: str) -> tuple[str, str] | None:
    """The user's GSI1 keys: none without an email."""
    return (f"EMAIL#{email.lower()}", f"USER#{user_id}") if email else None


def create_user_if_absent(user_id: str, name: str, email: str, created_at: str) -> UserItem:
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
    return item


def get_users(user_ids: list[str]) -> dict[str, UserItem]:
    return {item.userId: item for item in batch_get(UserItem, [user_key(u) for u in user_ids])}


def index_email(item: UserItem) -> None:
    """Gives a profile made before the email index its GSI1 keys."""
    keys = email_key(item.userId, item.email)
    if keys is not None and keys[0] != item.GSI1PK:
        item.update(actions=[UserItem.GSI1PK.set(keys[0]), UserItem.GSI1SK.set(keys[1])])


def find_by_email(email: str) -> list[UserItem]:
    """Every profile with this email (case folded), at most a few."""
    keys = email_key("", email)
    return list(UserItem.gsi1.query(keys[0], limit=25)) if keys else []
