// The HTTP API (API.md, "HTTP routes"), with its errors turned into sentences a person reads.

import type { Channel, FileInfo, Message, SearchResult, Unread, User, Workspace } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function describeError(status: number, code: string, serverMessage: string): string {
  switch (code || String(status)) {
    case "rate_limited":
    case "429":
      return "You are sending too fast: wait a few seconds and try again.";
    case "too_large":
    case "413":
      return `That is too large: ${serverMessage || "messages take up to 40,000 characters"}.`;
    case "unauthorized":
    case "401":
      return "You are signed out: sign in again.";
    case "forbidden":
    case "403":
      return `Not allowed: ${serverMessage}`;
    case "not_found":
    case "404":
      return "Not found (it may have been deleted, or you may not see it).";
    case "conflict":
    case "409":
      return serverMessage || "That conflicts with what is there.";
    default:
      return serverMessage || `The server answered ${status}.`;
  }
}

const enc = encodeURIComponent;

export class Api {
  // Called on a 401: the app signs the user out.
  onUnauthorized: () => void = () => {};

  constructor(
    private readonly base: string,
    private readonly token: () => Promise<string>,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${await this.token()}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    let reply: Response;
    try {
      reply = await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "network", "Cannot reach Parley: check your connection.");
    }
    if (reply.status === 204) return undefined as T;
    const text = await reply.text();
    let document: any = {};
    try {
      document = text ? JSON.parse(text) : {};
    } catch {
      document = {};
    }
    if (!reply.ok) {
      const code = document?.error?.code ?? "";
      const message = document?.error?.message ?? document?.message ?? "";
      if (reply.status === 401) this.onUnauthorized();
      throw new ApiError(reply.status, code, describeError(reply.status, code, message));
    }
    return document as T;
  }

  me = () => this.request<{ user: User }>("GET", "/me").then((r) => r.user);
  workspaces = () =>
    this.request<{ workspaces: Workspace[] }>("GET", "/workspaces").then((r) => r.workspaces);
  createWorkspace = (name: string) =>
    this.request<{ workspace: Workspace }>("POST", "/workspaces", { name }).then((r) => r.workspace);
  invite = (wid: string) =>
    this.request<{ invite: { code: string } }>("POST", `/workspaces/${enc(wid)}/invites`).then(
      (r) => r.invite.code,
    );
  acceptInvite = (code: string) =>
    this.request<{ workspace: Workspace }>("POST", `/invites/${enc(code)}/accept`).then(
      (r) => r.workspace,
    );
  members = (wid: string) =>
    this.request<{ members: { user: User; role: string }[] }>(
      "GET",
      `/workspaces/${enc(wid)}/members?limit=200`,
    ).then((r) => r.members.map((m) => m.user));
  channels = (wid: string) =>
    this.request<{ channels: Channel[] }>("GET", `/workspaces/${enc(wid)}/channels?limit=200`).then(
      (r) => r.channels,
    );
  createChannel = (wid: string, name: string, isPrivate: boolean) =>
    this.request<{ channel: Channel }>("POST", `/workspaces/${enc(wid)}/channels`, {
      name,
      private: isPrivate,
    }).then((r) => r.channel);
  openDm = (wid: string, userIds: string[]) =>
    this.request<{ channel: Channel }>("POST", `/workspaces/${enc(wid)}/dms`, { userIds }).then(
      (r) => r.channel,
    );
  join = (cid: string) =>
    this.request<{ channel: Channel }>("POST", `/channels/${enc(cid)}/join`).then((r) => r.channel);
  channelMembers = (cid: string) =>
    this.request<{ members: User[] }>("GET", `/channels/${enc(cid)}/members?limit=200`).then(
      (r) => r.members,
    );
  history = (cid: string, cursor: string | null, limit = 50) =>
    this.request<{ messages: Message[]; nextCursor: string | null }>(
      "GET",
      `/channels/${enc(cid)}/messages?limit=${limit}${cursor ? `&cursor=${enc(cursor)}` : ""}`,
    );
  replies = (cid: string, ts: string, cursor: string | null) =>
    this.request<{ messages: Message[]; nextCursor: string | null }>(
      "GET",
      `/channels/${enc(cid)}/messages/${enc(ts)}/replies?limit=200${cursor ? `&cursor=${enc(cursor)}` : ""}`,
    );
  message = (cid: string, ts: string) =>
    this.request<{ message: Message }>("GET", `/channels/${enc(cid)}/messages/${enc(ts)}`).then(
      (r) => r.message,
    );
  post = (cid: string, body: { text: string; threadTs?: string; clientMsgId: string; fileIds?: string[] }) =>
    this.request<{ message: Message }>("POST", `/channels/${enc(cid)}/messages`, body).then(
      (r) => r.message,
    );
  edit = (cid: string, ts: string, text: string) =>
    this.request<{ message: Message }>("PATCH", `/channels/${enc(cid)}/messages/${enc(ts)}`, {
      text,
    }).then((r) => r.message);
  remove = (cid: string, ts: string) =>
    this.request<void>("DELETE", `/channels/${enc(cid)}/messages/${enc(ts)}`);
  react = (cid: string, ts: string, name: string, add: boolean) =>
    this.request<{ message: Message }>(
      add ? "PUT" : "DELETE",
      `/channels/${enc(cid)}/messages/${enc(ts)}/reactions/${enc(name)}`,
    ).then((r) => r.message);
  markRead = (cid: string, ts: string) =>
    this.request<void>("POST", `/channels/${enc(cid)}/read`, { ts });
  unreads = (wid: string) =>
    this.request<{ channels: Unread[] }>("GET", `/workspaces/${enc(wid)}/unreads`).then(
      (r) => r.channels,
    );
  createFile = (wid: string, file: File, channelId: string) =>
    this.request<{ file: FileInfo; upload: { url: string; fields: Record<string, string> } }>(
      "POST",
      `/workspaces/${enc(wid)}/files`,
      { name: file.name, size: file.size, contentType: file.type || "application/octet-stream", channelId },
    );
  completeFile = (fid: string) =>
    this.request<{ file: FileInfo }>("POST", `/files/${enc(fid)}/complete`).then((r) => r.file);
  file = (fid: string) =>
    this.request<{ file: FileInfo; downloadUrl: string }>("GET", `/files/${enc(fid)}`);
  search = (wid: string, q: string) =>
    this.request<{ results: SearchResult[]; total: number }>(
      "GET",
      `/workspaces/${enc(wid)}/search?limit=50&q=${enc(q)}`,
    );
  presence = (wid: string, userIds: string[]) =>
    this.request<{ presence: Record<string, string> }>(
      "GET",
      `/workspaces/${enc(wid)}/presence?userIds=${userIds.map(enc).join(",")}`,
    ).then((r) => r.presence);
}

// A presigned POST with upload progress (fetch reports no upload progress; XHR does).
export function uploadForm(
  url: string,
  fields: Record<string, string>,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else if (xhr.status === 400 && xhr.responseText.includes("EntityTooLarge")) {
        reject(new ApiError(413, "too_large", "That file is too large."));
      } else {
        reject(new ApiError(xhr.status, "upload", `The upload failed (HTTP ${xhr.status}).`));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "The upload failed: check your connection."));
    xhr.send(form);
  });
}
