"""User group routes (API.md, "Team features"): a workspace's named sets of people, managed
by its admins, mentioned as one with `<!subteam^GID>`."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from parley.domain import usergroups
from parley.domain.caller import Caller
from parley.edge.http import token_caller
from parley.edge.schemas import CreateUserGroup, UpdateUserGroup, UserGroupReply, UserGroupsReply

router = Router()


def _caller() -> Caller:
    """No provisioning here: only a workspace's members reach its user groups, and joining
    (or creating) a workspace already provisioned them."""
    return token_caller(router.current_event)


@router.post("/workspaces/<wid>/usergroups", responses={201: {"description": "created"}})
def create_usergroup(wid: str, body: CreateUserGroup) -> Response[UserGroupReply]:
    group = usergroups.create(
        _caller(), wid, handle=body.handle, name=body.name, user_ids=body.userIds
    )
    return Response(
        status_code=201, content_type="application/json", body=UserGroupReply(usergroup=group)
    )


@router.get("/workspaces/<wid>/usergroups")
def list_usergroups(wid: str, includeDisabled: bool = False) -> UserGroupsReply:
    found = usergroups.list_groups(_caller(), wid, include_disabled=includeDisabled)
    return UserGroupsReply(usergroups=found)


@router.patch("/usergroups/<gid>")
def update_usergroup(gid: str, body: UpdateUserGroup) -> UserGroupReply:
    group = usergroups.update(
        _caller(),
        gid,
        handle=body.handle,
        name=body.name,
        user_ids=body.userIds,
        disabled=body.disabled,
    )
    return UserGroupReply(usergroup=group)


@router.delete("/usergroups/<gid>", responses={204: {"description": "deleted"}})
def delete_usergroup(gid: str) -> Response[None]:
    usergroups.delete(_caller(), gid)
    return Response(status_code=204)
