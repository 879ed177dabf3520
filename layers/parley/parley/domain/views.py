"""Records as the public objects of API.md."""

from __future__ import annotations

from typing import Literal, cast

from parley.domain import blocks
from parley.domain.objects import (
    Channel,
    ChannelType,
    Edited,
    File,
    Message,
    Reaction,
    Role,
    User,
    Workspace,
)
from parley.domain.records import (
    ChannelRecord,
    FileRecord,
    MessageRecord,
    SharedFileRecord,
    UserRecord,
    WorkspaceRecord,
)


def user_view(item: UserRecord) -> User:
    return User(id=item.userId, name=item.name, email=item.email)


def unknown_user(user_id: str) -> User:
    """A member whose profile was never provisioned (they have not called the API yet)."""
    return User(id=user_id, name=user_id, email="")


def workspace_view(item: WorkspaceRecord, role: str) -> Workspace:
    return Workspace(
        id=item.workspaceId, name=item.name, createdAt=item.createdAt, role=cast(Role, role)
    )


def channel_view(item: ChannelRecord, is_member: bool) -> Channel:
    return Channel(
        id=item.channelId,
        workspaceId=item.workspaceId,
        name=item.name,
        type=cast(ChannelType, item.type),
        topic=item.topic or "",
        createdBy=item.createdBy,
        createdAt=item.createdAt,
        isMember=is_member,
        memberCount=int(item.memberCount or 0),
        isArchived=bool(item.isArchived),
    )


def message_view(item: MessageRecord) -> Message:
    replies = int(item.replyCount or 0)
    return Message(
        ts=item.ts,
        channelId=item.channelId,
        userId=item.userId,
        text=item.text,
        # As in Slack, a parent with replies carries its own ts as threadTs.
        threadTs=item.threadTs or (item.ts if replies else None),
        replyCount=replies,
        latestReplyTs=item.latestReplyTs,
        reactions=[
            Reaction(name=r.name, count=len(r.users), users=list(r.users))
            for r in item.reactions
            if r.users
        ],
        edited=Edited(ts=item.editedTs) if item.editedTs else None,
        files=[shared_file_view(f, item.workspaceId) for f in item.files] if item.files else None,
        blocks=blocks.loaded(item.blocks),
        clientMsgId=item.clientMsgId,
        appId=item.appId,
        subtype=item.subtype,
    )


def file_view(item: FileRecord) -> File:
    return _file(item, item.workspaceId, "ready" if item.status == "ready" else "pending")


def shared_file(item: FileRecord) -> SharedFileRecord:
    """What a message keeps of a file it shares (a ready file never changes)."""
    return SharedFileRecord(
        fileId=item.fileId,
        name=item.name,
        size=item.size,
        contentType=item.contentType,
        uploadedBy=item.uploadedBy,
        createdAt=item.createdAt,
    )


def shared_file_view(shared: SharedFileRecord, workspace_id: str) -> File:
    return _file(shared, workspace_id, "ready")


def _file(
    source: FileRecord | SharedFileRecord, workspace_id: str, status: Literal["pending", "ready"]
) -> File:
    return File(
        id=source.fileId,
        workspaceId=workspace_id,
        name=source.name,
        size=int(source.size),
        contentType=source.contentType,
        status=status,
        uploadedBy=source.uploadedBy,
        createdAt=source.createdAt,
    )
