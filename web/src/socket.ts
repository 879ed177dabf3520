// The WebSocket (API.md, "WebSocket"): one connection per workspace, reconnected with
// exponential backoff and jitter after any close it did not ask for. After a reconnect the
// app catches up from history (events sent while it was away are not replayed).

export type Frame = Record<string, any> & { type: string };

export interface SocketHandlers {
  onFrame(frame: Frame): void;
  onOpen(reconnected: boolean): void;
  onDown(retryInMs: number): void;
}

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;
const PING_EVERY_MS = 60000;

export class LiveSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private opened = false;
  private closedByUs = false;
  private retryTimer: number | undefined;
  private pingTimer: number | undefined;
  private nextId = 1;

  constructor(
    private readonly url: () => Promise<string>,
    private readonly handlers: SocketHandlers,
  ) {}

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  async connect(): Promise<void> {
    this.closedByUs = false;
    let url: string;
    try {
      url = await this.url();
    } catch {
      this.scheduleRetry();
      return;
    }
    if (this.closedByUs) return;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      const reconnected = this.opened;
      this.opened = true;
      this.attempt = 0;
      this.pingTimer = window.setInterval(() => this.send({ action: "ping" }), PING_EVERY_MS);
      this.handlers.onOpen(reconnected);
    };
    ws.onmessage = (event) => {
      try {
        const frame = JSON.parse(String(event.data)) as Frame;
        if (frame && typeof frame.type === "string") this.handlers.onFrame(frame);
      } catch {
        // not JSON: nothing the API sends
      }
    };
    ws.onclose = () => {
      window.clearInterval(this.pingTimer);
      if (this.ws === ws) this.ws = null;
      if (!this.closedByUs) this.scheduleRetry();
    };
  }

  private scheduleRetry(): void {
    const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    this.handlers.onDown(delay);
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => void this.connect(), delay);
  }

  send(frame: Record<string, unknown>): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ id: String(this.nextId++), ...frame }));
    return true;
  }

  close(): void {
    this.closedByUs = true;
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.pingTimer);
    this.ws?.close(1000);
    this.ws = null;
  }
}
