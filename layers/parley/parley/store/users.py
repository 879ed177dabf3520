"""User profiles, provisioned from token claims."""

from __future__ import annotations

from pynamodb.exceptions import PutError

from parley.store.base import batch_get, condition_failed, get_or_none
from parley.store.items import UserItem


def user_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "PROFILE"


def get_user(user_id: str) -> UserItem | None:
    return get_or_none(UserItem, *user_key(user_id))


def create_user_if_absent(user_id: str, name: str, email: str, created_at: str) -> UserItem:
    item = UserItem(
        *user_key(user_id), userId=user_id, name=name, email=email, createdAt=created_at
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
