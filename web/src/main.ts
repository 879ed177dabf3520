// Parley's reference web client: plain TypeScript over the public API (HTTP, WebSocket,
// Cognito). One module of state and rendering; the DOM is the page's (index.html).

import { Api, ApiError, uploadForm } from "./api";
import { CognitoError, Session, UserPool } from "./cognito";
import { Config, loadConfig } from "./config";
import { emoji, escapeHtml, mentions, QUICK_REACTIONS, renderHighlight, renderText, toMarkup } from "./markup";
import { Frame, LiveSocket } from "./socket";
import type { Channel, Message, Unread, User, Workspace } from "./types";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const SESSION_KEY = "parley.session";
const TYPING_SHOWN_MS = 5000;
const TYPING_SENT_EVERY_MS = 3000;

interface State {
  config: Config;
  pool: UserPool;
  session: Session | null;
  api: Api | null;
  socket: LiveSocket | null;
  me: User | null;
  workspaces: Workspace[];
  workspace: Workspace | null;
  channels: Map<string, Channel>;
  dmPeer: Map<string, string>; // DM channel id -> the other user's id
  users: Map<string, User>;
  unreads: Map<string, Unread>;
  presence: Map<string, string>;
  channelId: string | null;
  messages: Message[]; // the open channel's top-level messages, oldest first
  cursor: string | null; // older history, null at its start
  loadingHistory: boolean;
  thread: { ts: string; messages: Message[] } | null;
  typing: Map<string, number>; // userId -> until (ms)
  lastTypingSent: number;
  signUp: "no" | "form" | "confirm";
}

let state: State;

// ------------------------------------------------------------------------------ errors

let errorTimer: number | undefined;

function showError(error: unknown): void {
  const box = $("error");
  let text: string;
  if (error instanceof ApiError || error instanceof CognitoError) text = error.message;
  else if (error instanceof Error) text = `Something went wrong: ${error.message}`;
  else text = String(error);
  box.textContent = text;
  box.hidden = false;
  window.clearTimeout(errorTimer);
  errorTimer = window.setTimeout(() => (box.hidden = true), 8000);
}

function guard<A extends unknown[]>(work: (...args: A) => Promise<unknown>) {
  return (...args: A) => {
    work(...args).catch(showError);
  };
}

// ----------------------------------------------------------------------------- session

async function token(): Promise<string> {
  const session = state.session;
  if (!session) throw new ApiError(401, "unauthorized", "You are signed out: sign in again.");
  if (session.expiresAt - Date.now() < 60_000) {
    try {
      state.session = await state.pool.refresh(session);
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
    } catch {
      signOut("Your session ended: sign in again.");
      throw new ApiError(401, "unauthorized", "Your session ended: sign in again.");
    }
  }
  return state.session!.idToken;
}

function api(): Api {
  if (!state.api) throw new ApiError(401, "unauthorized", "You are signed out: sign in again.");
  return state.api;
}

function show(view: "signin" | "onboard" | "app"): void {
  $("signin").hidden = view !== "signin";
  $("onboard").hidden = view !== "onboard";
  $("app").hidden = view !== "app";
}

function renderSignIn(): void {
  const mode = state.signUp;
  $("signup-fields").hidden = mode !== "form";
  $("confirm-fields").hidden = mode !== "confirm";
  $<HTMLInputElement>("email").required = mode === "form";
  $<HTMLInputElement>("code").required = mode === "confirm";
  $("signin-submit").textContent = mode === "form" ? "Create account" : mode === "confirm" ? "Confirm" : "Sign in";
  $("signup-toggle").textContent = mode === "no" ? "Create an account" : "I have an account";
  $("code-hint").textContent = state.config.local
    ? "The local stack sends no e-mail: any code confirms."
    : "Enter the code sent to your e-mail.";
}

async function submitSignIn(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const username = $<HTMLInputElement>("username").value.trim();
  const password = $<HTMLInputElement>("password").value;
  if (state.signUp === "form") {
    const confirmed = await state.pool.signUp(
      username,
      password,
      $<HTMLInputElement>("email").value.trim(),
      $<HTMLInputElement>("display-name").value.trim(),
    );
    if (!confirmed) {
      state.signUp = "confirm";
      renderSignIn();
      return;
    }
  } else if (state.signUp === "confirm") {
    await state.pool.confirm(username, $<HTMLInputElement>("code").value.trim() || "000000");
  }
  let session: Session;
  try {
    session = await state.pool.signIn(username, password);
  } catch (error) {
    if (error instanceof CognitoError && error.code === "UserNotConfirmedException") {
      state.signUp = "confirm";
      renderSignIn();
      throw new CognitoError(error.code, "Confirm your account first.");
    }
    throw error;
  }
  state.signUp = "no";
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  await start(session);
}

function signOut(reason?: string): void {
  state.socket?.close();
  sessionStorage.removeItem(SESSION_KEY);
  state.session = null;
  state.api = null;
  state.socket = null;
  state.me = null;
  state.workspace = null;
  $<HTMLInputElement>("password").value = "";
  renderSignIn();
  show("signin");
  if (reason) showError(reason);
}

async function start(session: Session): Promise<void> {
  state.session = session;
  const client = new Api(state.config.httpUrl, token);
  client.onUnauthorized = () => signOut("You are signed out: sign in again.");
  state.api = client;
  state.me = await client.me();
  state.users.set(state.me.id, state.me);
  $("me-name").textContent = state.me.name || session.username;
  state.workspaces = await client.workspaces();
  if (!state.workspaces.length) {
    show("onboard");
    return;
  }
  const remembered = localStorage.getItem(`parley.workspace.${state.me.id}`);
  const first = state.workspaces.find((w) => w.id === remembered) ?? state.workspaces[0];
  await openWorkspace(first);
}

// --------------------------------------------------------------------------- workspace

async function openWorkspace(workspace: Workspace): Promise<void> {
  state.socket?.close();
  state.workspace = workspace;
  localStorage.setItem(`parley.workspace.${state.me!.id}`, workspace.id);
  state.channels.clear();
  state.dmPeer.clear();
  state.unreads.clear();
  state.channelId = null;
  state.thread = null;
  closeThread();
  $("results").hidden = true;
  renderWorkspaces();
  show("app");
  await Promise.all([loadMembers(), loadChannels(), loadUnreads()]);
  const general = [...state.channels.values()].find((c) => c.name === "general" && c.isMember);
  const firstChannel = general ?? [...state.channels.values()].find((c) => c.isMember);
  // A channel the user picked while the sidebar loaded wins over the default one.
  if (firstChannel && state.channelId === null && state.workspace === workspace) {
    await openChannel(firstChannel.id);
  }
  if (state.workspace === workspace) connectSocket();
}

function renderWorkspaces(): void {
  const select = $<HTMLSelectElement>("workspace");
  select.innerHTML = state.workspaces
    .map((w) => `<option value="${escapeHtml(w.id)}">${escapeHtml(w.name)}</option>`)
    .join("");
  select.value = state.workspace?.id ?? "";
}

async function loadMembers(): Promise<void> {
  const members = await api().members(state.workspace!.id);
  for (const user of members) state.users.set(user.id, user);
  const others = members.filter((u) => u.id !== state.me!.id).map((u) => u.id);
  if (others.length) {
    const presence = await api().presence(state.workspace!.id, others.slice(0, 100));
    for (const [id, status] of Object.entries(presence)) state.presence.set(id, status);
  }
  renderSidebar();
}

async function loadChannels(): Promise<void> {
  const channels = await api().channels(state.workspace!.id);
  state.channels.clear();
  for (const channel of channels) state.channels.set(channel.id, channel);
  const unknownDms = channels.filter((c) => c.type === "dm" && !state.dmPeer.has(c.id));
  await Promise.all(unknownDms.map((c) => loadDmPeer(c.id)));
  renderSidebar();
}

// A DM's sidebar entry is its peer's: who that is comes from the channel's members.
async function loadDmPeer(channelId: string): Promise<void> {
  const members = await api().channelMembers(channelId);
  const peer = members.find((u) => u.id !== state.me!.id) ?? members[0];
  if (peer) {
    state.dmPeer.set(channelId, peer.id);
    if (!state.users.has(peer.id)) state.users.set(peer.id, peer);
  }
}

async function loadUnreads(): Promise<void> {
  const unreads = await api().unreads(state.workspace!.id);
  state.unreads.clear();
  for (const unread of unreads) state.unreads.set(unread.channelId, unread);
  renderSidebar();
}

function userName(id: string): string {
  return state.users.get(id)?.name || id;
}

function channelLabel(channel: Channel): string {
  if (channel.type === "dm") {
    const peer = state.dmPeer.get(channel.id);
    return peer ? userName(peer) : "Direct message";
  }
  return channel.name;
}

function badges(channelId: string): string {
  const unread = state.unreads.get(channelId);
  if (!unread || channelId === state.channelId) return "";
  // Every DM message counts as a mention (API.md), as countUnread counts them live.
  const type = state.channels.get(channelId)?.type;
  const direct = type === "dm" || type === "group_dm";
  const mentionCount = direct ? Math.max(unread.mentionCount, unread.unreadCount) : unread.mentionCount;
  let html = "";
  if (mentionCount > 0) {
    html += `<span class="badge mention-badge" aria-label="${mentionCount} mentions">${mentionCount}</span>`;
  } else if (unread.unreadCount > 0) {
    html += `<span class="badge unread-badge" aria-label="${unread.unreadCount} unread">${unread.unreadCount}</span>`;
  }
  return html;
}

function presenceDot(userId: string): string {
  const status = state.presence.get(userId) === "active" ? "active" : "away";
  return `<span class="presence ${status}" data-presence-user="${escapeHtml(userId)}" title="${status}" aria-label="${status}"></span>`;
}

function renderSidebar(): void {
  const channels = [...state.channels.values()]
    .filter((c) => c.type === "public" || c.type === "private")
    .sort((a, b) => a.name.localeCompare(b.name));
  $("channels").innerHTML = channels
    .map((c) => {
      const unread = state.unreads.get(c.id);
      const bold = unread && unread.unreadCount > 0 && c.id !== state.channelId ? " has-unread" : "";
      const current = c.id === state.channelId ? ' aria-current="page"' : "";
      const joined = c.isMember ? "" : " not-member";
      const sigil = c.type === "private" ? "🔒" : "#";
      return `<li><button type="button" class="channel${bold}${joined}" data-channel-id="${escapeHtml(c.id)}"${current}>${sigil} ${escapeHtml(c.name)}${badges(c.id)}</button></li>`;
    })
    .join("");
  // Every member of the workspace gets a DM entry; the DM channel, once it exists, carries the badges.
  const dmByPeer = new Map<string, string>();
  for (const [cid, peer] of state.dmPeer) dmByPeer.set(peer, cid);
  const people = [...state.users.values()]
    .filter((u) => u.id !== state.me?.id)
    .sort((a, b) => a.name.localeCompare(b.name));
  $("dms").innerHTML = people
    .map((u) => {
      const cid = dmByPeer.get(u.id);
      const current = cid && cid === state.channelId ? ' aria-current="page"' : "";
      const unread = cid ? state.unreads.get(cid) : undefined;
      const bold = unread && unread.unreadCount > 0 && cid !== state.channelId ? " has-unread" : "";
      return `<li><button type="button" class="dm${bold}" data-user-id="${escapeHtml(u.id)}"${cid ? ` data-channel-id="${escapeHtml(cid)}"` : ""}${current}>${presenceDot(u.id)}${escapeHtml(u.name || u.email)}${cid ? badges(cid) : ""}</button></li>`;
    })
    .join("");
}

// ----------------------------------------------------------------------------- channel

async function openChannel(channelId: string): Promise<void> {
  let channel = state.channels.get(channelId);
  if (!channel) throw new ApiError(404, "not_found", "That channel is gone.");
  if (!channel.isMember) {
    channel = await api().join(channelId);
    state.channels.set(channel.id, channel);
  }
  state.channelId = channelId;
  state.messages = [];
  state.cursor = null;
  state.typing.clear();
  closeThread();
  $("channel-title").textContent = channel.type === "dm" ? channelLabel(channel) : `# ${channel.name}`;
  $("channel-topic").textContent = channel.topic ?? "";
  $<HTMLTextAreaElement>("message").placeholder = `Message ${channel.type === "dm" ? channelLabel(channel) : `#${channel.name}`}`;
  renderMessages();
  const page = await api().history(channelId, null);
  if (state.channelId !== channelId) return;
  // Live messages that arrived while the page loaded are newer than it or in it: keep them.
  const arrived = state.messages;
  state.messages = page.messages.reverse();
  for (const message of arrived) insertSorted(state.messages, message);
  state.cursor = page.nextCursor;
  renderMessages();
  scrollToBottom();
  await markRead();
  await fillViewport();
}

// Older pages until the list can scroll (or history ends), so scrolling up can page on.
async function fillViewport(): Promise<void> {
  const box = $("messages");
  while (state.cursor && box.scrollHeight <= box.clientHeight) {
    if (!(await loadOlder())) break;
  }
}

async function loadOlder(): Promise<boolean> {
  const channelId = state.channelId;
  if (!channelId || !state.cursor || state.loadingHistory) return false;
  state.loadingHistory = true;
  $("history-status").textContent = "Loading older messages…";
  try {
    const page = await api().history(channelId, state.cursor);
    if (state.channelId !== channelId) return false;
    const box = $("messages");
    const fromBottom = box.scrollHeight - box.scrollTop;
    const known = new Set(state.messages.map((m) => m.ts));
    state.messages = [...page.messages.reverse().filter((m) => !known.has(m.ts)), ...state.messages];
    state.cursor = page.nextCursor;
    renderMessages();
    box.scrollTop = box.scrollHeight - fromBottom;
    return true;
  } finally {
    state.loadingHistory = false;
    renderHistoryStatus();
  }
}

function renderHistoryStatus(): void {
  const channel = state.channelId ? state.channels.get(state.channelId) : undefined;
  $("history-status").textContent =
    state.cursor || !channel ? "" : `This is the very beginning of ${channelLabel(channel)}.`;
}

async function markRead(): Promise<void> {
  const channelId = state.channelId;
  const latest = state.messages[state.messages.length - 1];
  const unread = channelId ? state.unreads.get(channelId) : undefined;
  if (channelId && unread) {
    unread.unreadCount = 0;
    unread.mentionCount = 0;
  }
  renderSidebar();
  if (!channelId || !latest) return;
  if (unread?.lastReadTs && unread.lastReadTs >= latest.ts) return;
  if (unread) unread.lastReadTs = latest.ts;
  if (!state.socket?.send({ action: "markRead", channelId, ts: latest.ts })) {
    await api().markRead(channelId, latest.ts);
  }
}

function scrollToBottom(): void {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

function nearBottom(): boolean {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function formatTime(ts: string): string {
  const seconds = Number(ts.split(".")[0]);
  if (!Number.isFinite(seconds)) return "";
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function messageHtml(message: Message, inThread: boolean): string {
  const me = state.me!.id;
  const text = renderText(message.text, {
    me,
    user: userName,
    channel: (id) => state.channels.get(id)?.name ?? id,
  });
  const mine = message.userId === me;
  const mentioned = !mine && mentions(message.text, me) ? " mentioned" : "";
  const files = (message.files ?? [])
    .map(
      (f) =>
        `<li class="file"><span class="file-name">📄 ${escapeHtml(f.name)}</span> <span class="hint">${formatSize(f.size)}</span> <button type="button" class="link download" data-file-id="${escapeHtml(f.id)}" data-file-name="${escapeHtml(f.name)}">Download</button></li>`,
    )
    .join("");
  const reactions = (message.reactions ?? [])
    .filter((r) => r.count > 0)
    .map((r) => {
      const pressed = r.users.includes(me);
      return `<button type="button" class="reaction" data-reaction="${escapeHtml(r.name)}" aria-pressed="${pressed}" title="${escapeHtml(r.users.map(userName).join(", "))}">${emoji(r.name)} <span class="count">${r.count}</span></button>`;
    })
    .join("");
  const replies =
    !inThread && message.replyCount
      ? `<button type="button" class="link replies" data-action="thread">${message.replyCount} ${message.replyCount === 1 ? "reply" : "replies"}</button>`
      : "";
  const quick = QUICK_REACTIONS.map(
    (name) => `<button type="button" class="quick-reaction" data-reaction="${name}" aria-label="React ${name}">${emoji(name)}</button>`,
  ).join("");
  const actions = [
    quick,
    inThread ? "" : `<button type="button" class="link" data-action="thread">Reply in thread</button>`,
    mine ? `<button type="button" class="link" data-action="edit">Edit</button>` : "",
    mine || state.workspace?.role === "admin" ? `<button type="button" class="link" data-action="delete">Delete</button>` : "",
  ].join("");
  return `<li class="message${mentioned}" data-ts="${escapeHtml(message.ts)}" data-channel-id="${escapeHtml(message.channelId)}">
    <div class="meta"><span class="author">${escapeHtml(userName(message.userId))}</span> <time>${formatTime(message.ts)}</time>${message.edited ? ' <span class="edited">(edited)</span>' : ""}</div>
    <div class="text">${text}</div>
    ${files ? `<ul class="files">${files}</ul>` : ""}
    <div class="reactions">${reactions}</div>
    ${replies}
    <div class="actions">${actions}</div>
  </li>`;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function renderMessages(): void {
  $("message-list").innerHTML = state.messages.map((m) => messageHtml(m, false)).join("");
  renderHistoryStatus();
}

function renderThread(): void {
  const thread = state.thread;
  if (!thread) return;
  $("thread-list").innerHTML = thread.messages.map((m) => messageHtml(m, true)).join("");
  const list = $("thread-list");
  list.scrollTop = list.scrollHeight;
}

function insertSorted(list: Message[], message: Message): boolean {
  const at = list.findIndex((m) => m.ts === message.ts);
  if (at >= 0) {
    list[at] = message;
    return false;
  }
  list.push(message);
  list.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  return true;
}

function isReply(message: Message): boolean {
  return Boolean(message.threadTs && message.threadTs !== message.ts);
}

// A message this client posted or received: into the list and the thread where it belongs.
function place(message: Message): void {
  if (message.channelId === state.channelId) {
    if (!isReply(message)) {
      const stick = nearBottom();
      insertSorted(state.messages, message);
      renderMessages();
      if (stick || message.userId === state.me!.id) scrollToBottom();
    } else {
      const root = state.messages.find((m) => m.ts === message.threadTs);
      if (root && state.thread?.messages.every((m) => m.ts !== message.ts) !== false) {
        root.replyCount = (root.replyCount ?? 0) + 1;
        renderMessages();
      }
    }
  }
  if (state.thread && message.channelId === state.channelId) {
    if (message.ts === state.thread.ts || message.threadTs === state.thread.ts) {
      insertSorted(state.thread.messages, message);
      renderThread();
    }
  }
}

function replaceEverywhere(message: Message): void {
  for (const list of [state.messages, state.thread?.messages ?? []]) {
    const at = list.findIndex((m) => m.ts === message.ts && m.channelId === message.channelId);
    if (at >= 0) list[at] = { ...list[at], ...message };
  }
  renderMessages();
  renderThread();
}

function findMessage(channelId: string, ts: string): Message | undefined {
  if (channelId !== state.channelId) return undefined;
  return state.messages.find((m) => m.ts === ts) ?? state.thread?.messages.find((m) => m.ts === ts);
}

function applyReaction(channelId: string, ts: string, name: string, userId: string, added: boolean): void {
  for (const list of [state.messages, state.thread?.messages ?? []]) {
    const message = list.find((m) => m.ts === ts && m.channelId === channelId);
    if (!message) continue;
    const reactions = (message.reactions ??= []);
    let reaction = reactions.find((r) => r.name === name);
    if (!reaction) {
      reaction = { name, count: 0, users: [] };
      reactions.push(reaction);
    }
    const has = reaction.users.includes(userId);
    if (added && !has) reaction.users.push(userId);
    if (!added && has) reaction.users = reaction.users.filter((u) => u !== userId);
    reaction.count = reaction.users.length;
    message.reactions = reactions.filter((r) => r.count > 0);
  }
  renderMessages();
  renderThread();
}

// ------------------------------------------------------------------------------ thread

async function openThread(channelId: string, ts: string): Promise<void> {
  const root = findMessage(channelId, ts) ?? (await api().message(channelId, ts));
  state.thread = { ts, messages: [root] };
  $("thread").hidden = false;
  $("results").hidden = true;
  renderThread();
  let cursor: string | null = null;
  do {
    const page = await api().replies(channelId, ts, cursor);
    if (state.thread?.ts !== ts) return;
    for (const reply of page.messages) insertSorted(state.thread.messages, reply);
    cursor = page.nextCursor;
  } while (cursor);
  renderThread();
  $("reply").focus();
}

function closeThread(): void {
  state.thread = null;
  $("thread").hidden = true;
  $("thread-list").innerHTML = "";
}

// ------------------------------------------------------------------------------ sending

function markupOf(text: string): string {
  return toMarkup(text, (handle) => {
    for (const user of state.users.values()) {
      const name = (user.name || "").toLowerCase().replace(/\s+/g, "");
      const local = (user.email || "").toLowerCase().split("@")[0];
      if (handle === name || handle === local) return user.id;
    }
    return undefined;
  });
}

async function send(textarea: HTMLTextAreaElement, threadTs?: string, fileIds?: string[]): Promise<void> {
  const channelId = state.channelId;
  const raw = textarea.value;
  if (!channelId || (!raw.trim() && !fileIds?.length)) return;
  const body = {
    text: markupOf(raw.trim()),
    threadTs,
    clientMsgId: crypto.randomUUID(),
    fileIds,
  };
  textarea.value = "";
  try {
    // Over HTTP: its errors (429, 413) have statuses, and a long text exceeds the
    // WebSocket's 32 KB frames. The WebSocket still delivers it live to everyone else.
    const message = await api().post(channelId, body);
    place(message);
    if (!threadTs) await markRead();
  } catch (error) {
    if (!textarea.value) textarea.value = raw; // nothing the user wrote is lost
    throw error;
  }
}

function sendTyping(threadTs?: string): void {
  const now = Date.now();
  if (!state.channelId || now - state.lastTypingSent < TYPING_SENT_EVERY_MS) return;
  if (state.socket?.send({ action: "typing", channelId: state.channelId, ...(threadTs ? { threadTs } : {}) })) {
    state.lastTypingSent = now;
  }
}

async function uploadFile(file: File): Promise<void> {
  const channelId = state.channelId;
  if (!channelId || !state.workspace) return;
  const box = $("upload");
  const progress = $<HTMLProgressElement>("upload-progress");
  $("upload-name").textContent = file.name;
  progress.value = 0;
  box.hidden = false;
  box.classList.remove("done");
  try {
    const created = await api().createFile(state.workspace.id, file, channelId);
    await uploadForm(created.upload.url, created.upload.fields, file, (fraction) => {
      progress.value = fraction;
    });
    await api().completeFile(created.file.id);
    box.classList.add("done");
    await send($<HTMLTextAreaElement>("message"), undefined, [created.file.id]);
  } finally {
    window.setTimeout(() => (box.hidden = true), 1500);
  }
}

async function download(fileId: string, name: string): Promise<void> {
  const { downloadUrl } = await api().file(fileId);
  let blob: Blob;
  try {
    const reply = await fetch(downloadUrl);
    if (!reply.ok) throw new Error(String(reply.status));
    blob = await reply.blob();
  } catch {
    // Without CORS on the bucket, let the browser fetch it itself.
    window.open(downloadUrl, "_blank", "noopener");
    return;
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// ------------------------------------------------------------------------------- search

async function search(query: string): Promise<void> {
  if (!state.workspace || !query.trim()) return;
  const { results, total } = await api().search(state.workspace.id, query.trim());
  $("results-title").textContent = `${total} result${total === 1 ? "" : "s"} for “${query.trim()}”`;
  $("result-list").innerHTML = results.length
    ? results
        .map((r) => {
          const fragments = r.highlights.length
            ? r.highlights.map(renderHighlight).join(" … ")
            : escapeHtml(r.message.text);
          const where = r.channel.type === "dm" ? channelLabel(r.channel) : `#${r.channel.name}`;
          return `<li><button type="button" class="result" data-channel-id="${escapeHtml(r.message.channelId)}" data-ts="${escapeHtml(r.message.threadTs ?? r.message.ts)}">
            <span class="meta">${escapeHtml(where)} · ${escapeHtml(userName(r.message.userId))} · ${formatTime(r.message.ts)}</span>
            <span class="text">${fragments}</span></button></li>`;
        })
        .join("")
    : `<li class="hint">No messages match. Try fewer words, or in:#channel, from:@name, before:/after:YYYY-MM-DD, has:file.</li>`;
  closeThread();
  $("results").hidden = false;
}

// ---------------------------------------------------------------------------- live events

function connectSocket(): void {
  const workspaceId = state.workspace!.id;
  const socket = new LiveSocket(
    async () => `${state.config.wsUrl}?token=${encodeURIComponent(await token())}&workspaceId=${encodeURIComponent(workspaceId)}`,
    {
      onFrame: onFrame,
      onOpen: (reconnected) => {
        document.body.dataset.live = "true";
        $("connection").hidden = true;
        $("connection").textContent = "";
        const others = [...state.users.keys()].filter((id) => id !== state.me?.id);
        if (others.length) socket.send({ action: "subscribePresence", userIds: others.slice(0, 100) });
        if (reconnected) void catchUp().catch(showError);
      },
      onDown: (retryInMs) => {
        document.body.dataset.live = "false";
        const box = $("connection");
        box.textContent = `Connection lost: reconnecting in ${Math.ceil(retryInMs / 1000)} s…`;
        box.hidden = false;
      },
    },
  );
  state.socket = socket;
  void socket.connect();
}

// After a drop: what happened meanwhile, from history (events are not replayed).
async function catchUp(): Promise<void> {
  if (!state.workspace) return;
  await Promise.all([loadChannels(), loadUnreads()]);
  const channelId = state.channelId;
  if (channelId) {
    const page = await api().history(channelId, null);
    if (state.channelId === channelId) {
      const newest = page.messages.map((m) => m.ts);
      // Messages deleted meanwhile disappear from the page we refetched.
      const oldestFetched = newest[newest.length - 1];
      state.messages = state.messages.filter(
        (m) => (oldestFetched !== undefined && m.ts < oldestFetched) || newest.includes(m.ts),
      );
      const stick = nearBottom();
      for (const message of page.messages) insertSorted(state.messages, message);
      renderMessages();
      if (stick) scrollToBottom();
      await markRead();
    }
  }
  if (state.thread && channelId) await openThread(channelId, state.thread.ts);
}

function onFrame(frame: Frame): void {
  const me = state.me?.id;
  switch (frame.type) {
    case "message": {
      const message = frame.message as Message;
      state.typing.delete(message.userId);
      renderTyping();
      const known = findMessage(message.channelId, message.ts);
      place(message);
      const viewing = message.channelId === state.channelId && document.visibilityState !== "hidden";
      if (viewing && !isReply(message)) {
        void markRead().catch(showError);
      } else if (message.userId !== me && !isReply(message) && !known) {
        // A channel this client has not seen (a DM someone just opened): load it first.
        if (state.channels.has(message.channelId)) countUnread(message);
        else void loadChannels().then(() => countUnread(message), showError);
      }
      break;
    }
    case "message_changed":
      replaceEverywhere(frame.message as Message);
      break;
    case "message_deleted": {
      state.messages = state.messages.filter((m) => !(m.ts === frame.ts && m.channelId === frame.channelId));
      if (state.thread && frame.channelId === state.channelId) {
        if (state.thread.ts === frame.ts) closeThread();
        else state.thread.messages = state.thread.messages.filter((m) => m.ts !== frame.ts);
      }
      renderMessages();
      renderThread();
      break;
    }
    case "reaction_added":
    case "reaction_removed":
      applyReaction(frame.channelId, frame.ts, frame.name, frame.userId, frame.type === "reaction_added");
      break;
    case "user_typing":
      if (frame.channelId === state.channelId && frame.userId !== me) {
        state.typing.set(frame.userId, Date.now() + TYPING_SHOWN_MS);
        renderTyping();
        window.setTimeout(renderTyping, TYPING_SHOWN_MS + 50);
      }
      break;
    case "presence_change":
      state.presence.set(frame.userId, frame.presence);
      for (const dot of document.querySelectorAll<HTMLElement>(`[data-presence-user="${CSS.escape(frame.userId)}"]`)) {
        dot.className = `presence ${frame.presence === "active" ? "active" : "away"}`;
        dot.title = dot.ariaLabel = frame.presence;
      }
      break;
    case "channel_created":
    case "channel_changed":
    case "channel_archived":
    case "channel_unarchived": {
      const channel = frame.channel as Channel | undefined;
      if (channel) {
        const known = state.channels.get(channel.id);
        state.channels.set(channel.id, { ...known, ...channel, isMember: channel.isMember ?? known?.isMember ?? false });
        renderSidebar();
        // A DM someone just opened with me: its entry (and so its badge) needs the peer.
        if (channel.type === "dm" && !state.dmPeer.has(channel.id)) {
          void loadDmPeer(channel.id).then(renderSidebar, showError);
        }
      } else {
        void loadChannels().catch(showError);
      }
      break;
    }
    case "member_joined_channel":
    case "member_left_channel":
      if (frame.userId === me) void loadChannels().catch(showError);
      else if (!state.users.has(frame.userId)) void loadMembers().catch(showError);
      break;
    case "channel_marked": {
      const unread = state.unreads.get(frame.channelId);
      if (unread) {
        unread.unreadCount = 0;
        unread.mentionCount = 0;
        unread.lastReadTs = frame.ts;
        renderSidebar();
      }
      break;
    }
    case "error":
      if (frame.error?.code === "rate_limited") showError("You are sending too fast: wait a few seconds and try again.");
      break;
    default:
      break;
  }
}

function countUnread(message: Message): void {
  const unread = state.unreads.get(message.channelId) ?? {
    channelId: message.channelId,
    unreadCount: 0,
    mentionCount: 0,
  };
  unread.unreadCount += 1;
  const channel = state.channels.get(message.channelId);
  if (mentions(message.text, state.me?.id ?? "") || channel?.type === "dm" || channel?.type === "group_dm") {
    unread.mentionCount += 1;
  }
  state.unreads.set(message.channelId, unread);
  renderSidebar();
}

function renderTyping(): void {
  const now = Date.now();
  const names = [...state.typing.entries()].filter(([, until]) => until > now).map(([id]) => userName(id));
  $("typing").textContent = names.length
    ? `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…`
    : "";
}

// ------------------------------------------------------------------------------- wiring

function composerKeys(textarea: HTMLTextAreaElement, submit: () => void, threadTs: () => string | undefined): void {
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  textarea.addEventListener("input", () => sendTyping(threadTs()));
}

async function onMessageClick(event: MouseEvent): Promise<void> {
  const target = event.target as HTMLElement;
  const item = target.closest<HTMLElement>(".message");
  if (!item) return;
  const channelId = item.dataset.channelId!;
  const ts = item.dataset.ts!;
  const button = target.closest<HTMLElement>("button");
  if (!button) return;
  if (button.classList.contains("download")) {
    await download(button.dataset.fileId!, button.dataset.fileName!);
    return;
  }
  const reaction = button.dataset.reaction;
  if (reaction) {
    const message = findMessage(channelId, ts);
    const mine = message?.reactions?.find((r) => r.name === reaction)?.users.includes(state.me!.id) ?? false;
    replaceEverywhere(await api().react(channelId, ts, reaction, !mine));
    return;
  }
  switch (button.dataset.action) {
    case "thread":
      await openThread(channelId, ts);
      break;
    case "edit": {
      const message = findMessage(channelId, ts);
      const text = window.prompt("Edit message", message?.text ?? "");
      if (text !== null && text.trim() && text !== message?.text) {
        replaceEverywhere(await api().edit(channelId, ts, markupOf(text.trim())));
      }
      break;
    }
    case "delete":
      if (window.confirm("Delete this message?")) {
        await api().remove(channelId, ts);
        onFrame({ type: "message_deleted", channelId, ts });
      }
      break;
    default:
      break;
  }
}

async function openDm(userId: string, channelId?: string): Promise<void> {
  if (!channelId) {
    const channel = await api().openDm(state.workspace!.id, [userId]);
    state.channels.set(channel.id, channel);
    state.dmPeer.set(channel.id, userId);
    channelId = channel.id;
  }
  await openChannel(channelId);
}

function wire(): void {
  $("signin-form").addEventListener("submit", guard(submitSignIn));
  $("signup-toggle").addEventListener("click", () => {
    state.signUp = state.signUp === "no" ? "form" : "no";
    renderSignIn();
  });
  $("signout").addEventListener("click", () => signOut());
  $("create-workspace-form").addEventListener(
    "submit",
    guard(async (event: SubmitEvent) => {
      event.preventDefault();
      const workspace = await api().createWorkspace($<HTMLInputElement>("new-workspace").value.trim());
      state.workspaces.push(workspace);
      await openWorkspace(workspace);
    }),
  );
  $("accept-invite-form").addEventListener(
    "submit",
    guard(async (event: SubmitEvent) => {
      event.preventDefault();
      const workspace = await api().acceptInvite($<HTMLInputElement>("invite-code").value.trim());
      state.workspaces = await api().workspaces();
      await openWorkspace(workspace);
    }),
  );
  $("workspace").addEventListener(
    "change",
    guard(async () => {
      const id = $<HTMLSelectElement>("workspace").value;
      const workspace = state.workspaces.find((w) => w.id === id);
      if (workspace) await openWorkspace(workspace);
    }),
  );
  $("add-workspace").addEventListener("click", () => show("onboard"));
  $("invite").addEventListener(
    "click",
    guard(async () => {
      const code = await api().invite(state.workspace!.id);
      const result = $("invite-result");
      result.textContent = `Invite code: ${code}`;
      result.hidden = false;
    }),
  );
  $("new-channel").addEventListener(
    "click",
    guard(async () => {
      const name = window.prompt("New channel name (a-z, 0-9, - and _)");
      if (!name) return;
      const channel = await api().createChannel(state.workspace!.id, name.trim().toLowerCase(), false);
      state.channels.set(channel.id, channel);
      await openChannel(channel.id);
    }),
  );
  $("sidebar").addEventListener(
    "click",
    guard(async (event: MouseEvent) => {
      const button = (event.target as HTMLElement).closest<HTMLElement>("button.channel, button.dm");
      if (!button) return;
      if (button.classList.contains("dm")) await openDm(button.dataset.userId!, button.dataset.channelId);
      else await openChannel(button.dataset.channelId!);
    }),
  );
  const composer = $<HTMLTextAreaElement>("message");
  const sendMain = guard(() => send(composer));
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    sendMain();
  });
  composerKeys(composer, sendMain, () => undefined);
  const reply = $<HTMLTextAreaElement>("reply");
  const sendReply = guard(async () => {
    if (state.thread) await send(reply, state.thread.ts);
  });
  $("reply-composer").addEventListener("submit", (event) => {
    event.preventDefault();
    sendReply();
  });
  composerKeys(reply, sendReply, () => state.thread?.ts);
  $<HTMLInputElement>("file").addEventListener(
    "change",
    guard(async (event: Event) => {
      const input = event.target as HTMLInputElement;
      const file = input.files?.[0];
      input.value = "";
      if (file) await uploadFile(file);
    }),
  );
  $("message-list").addEventListener("click", guard(onMessageClick));
  $("thread-list").addEventListener("click", guard(onMessageClick));
  $("messages").addEventListener("scroll", () => {
    if ($("messages").scrollTop < 120) void loadOlder().catch(showError);
  });
  $("close-thread").addEventListener("click", closeThread);
  $("close-results").addEventListener("click", () => ($("results").hidden = true));
  $("search-form").addEventListener(
    "submit",
    guard(async (event: SubmitEvent) => {
      event.preventDefault();
      await search($<HTMLInputElement>("search").value);
    }),
  );
  $("result-list").addEventListener(
    "click",
    guard(async (event: MouseEvent) => {
      const button = (event.target as HTMLElement).closest<HTMLElement>("button.result");
      if (!button) return;
      const channelId = button.dataset.channelId!;
      if (channelId !== state.channelId) await openChannel(channelId);
      $("results").hidden = true;
      const item = document.querySelector<HTMLElement>(`#message-list [data-ts="${CSS.escape(button.dataset.ts!)}"]`);
      item?.scrollIntoView({ block: "center" });
      item?.classList.add("flash");
    }),
  );
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.thread) {
      closeThread();
      $("message").focus();
    } else if (event.key === "Escape" && !$("results").hidden) {
      $("results").hidden = true;
    }
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") void markRead().catch(showError);
  });
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = await loadConfig();
  } catch (error) {
    showError(`This client has no configuration (${(error as Error).message}).`);
    return;
  }
  state = {
    config,
    pool: new UserPool(config),
    session: null,
    api: null,
    socket: null,
    me: null,
    workspaces: [],
    workspace: null,
    channels: new Map(),
    dmPeer: new Map(),
    users: new Map(),
    unreads: new Map(),
    presence: new Map(),
    channelId: null,
    messages: [],
    cursor: null,
    loadingHistory: false,
    thread: null,
    typing: new Map(),
    lastTypingSent: 0,
    signUp: "no",
  };
  wire();
  renderSignIn();
  const saved = sessionStorage.getItem(SESSION_KEY);
  if (saved) {
    try {
      await start(JSON.parse(saved) as Session);
      return;
    } catch (error) {
      sessionStorage.removeItem(SESSION_KEY);
      showError(error);
    }
  }
  show("signin");
  $("username").focus();
}

void main();
