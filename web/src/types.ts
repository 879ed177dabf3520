// The public API's objects (API.md, "Objects").

export interface User {
  id: string;
  name: string;
  email: string;
}

export interface Workspace {
  id: string;
  name: string;
  createdAt: string;
  role: "admin" | "member";
}

export interface Channel {
  id: string;
  workspaceId: string;
  name: string;
  type: "public" | "private" | "dm" | "group_dm";
  topic?: string;
  isMember: boolean;
  memberCount: number;
  isArchived?: boolean;
}

export interface Reaction {
  name: string;
  count: number;
  users: string[];
}

export interface FileInfo {
  id: string;
  name: string;
  size: number;
  contentType: string;
  status: "pending" | "ready";
}

export interface Message {
  ts: string;
  channelId: string;
  userId: string;
  text: string;
  threadTs?: string | null;
  replyCount?: number;
  latestReplyTs?: string | null;
  reactions?: Reaction[];
  edited?: { ts: string } | null;
  files?: FileInfo[] | null;
  clientMsgId?: string | null;
}

export interface Unread {
  channelId: string;
  lastReadTs?: string | null;
  unreadCount: number;
  mentionCount: number;
}

export interface SearchResult {
  message: Message;
  channel: Channel;
  highlights: string[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
