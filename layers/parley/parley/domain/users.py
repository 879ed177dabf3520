"""Users, provisioned lazily from their token the first time they call."""

from __future__ import annotations

from collections.abc import Callable

from parley.domain.caller import Caller
from parley.domain.objects import User
from parley.domain.ports.users import store as user_store
from parley.domain.views import unknown_user, user_view
from parley.ids import iso_now

# username -> (name, email) from the user pool, for tokens that carry no email (access tokens).
ProfileLookup = Callable[[str], tuple[str | None, str | None]]
# (user id, email) of a new profile: claims what a Slack import made for that email
# (parley.domain.claims.claim_placeholders).
Claim = Callable[[str, str], object]

_provisioned: set[str] = set()  # this process has seen these users' profiles exist


def ensure_user(
    caller: Caller, lookup: ProfileLookup | None = None, claim: Claim | None = None
) -> User:
    """The caller's profile, created from the token (and the pool if need be) on first sight;
    then `claim` takes over the placeholders an import made for the email."""
    item = user_store.get_user(caller.user_id, index_email=True)
    if item is None:
        name, email = caller.name, caller.email
        if email is None and lookup is not None and caller.username:
            pool_name, email = lookup(caller.username)
            name = name or pool_name
        item = user_store.create_user_if_absent(
            caller.user_id,
            name=name or caller.username or caller.user_id,
            email=email or "",
            created_at=iso_now(),
        )
        if claim is not None and item.email:
            claim(caller.user_id, item.email)
    _provisioned.add(caller.user_id)
    return user_view(item)


def provision(
    caller: Caller, lookup: ProfileLookup | None = None, claim: Claim | None = None
) -> None:
    """ensure_user at most once per user and process: every route calls it, /me reads anyway."""
    if caller.user_id not in _provisioned:
        ensure_user(caller, lookup, claim)


def users_by_id(user_ids: list[str]) -> list[User]:
    found = user_store.get_users(user_ids)
    return [user_view(found[u]) if u in found else unknown_user(u) for u in user_ids]
