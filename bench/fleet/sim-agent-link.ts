/**
 * One simulated agent's WebSocket, shaped like the service's ApiLink (src/service/api-link.ts): the
 * same upgrade headers (device id, bearer token, protocol announcement), the same 15 s ping with a
 * missed-heartbeat check, the same jittered backoff (src/service/backoff.ts, 1 s base, 30 s cap, reset
 * after 10 s up), and the same use of a list of API URLs: the next one is tried after every close,
 * which is how the fleet benchmark's agents find the surviving instance. Leaner than ApiLink (no
 * logger, no in-flight accounting, no consent), so thousands fit in one process.
 */
import WebSocket from 'ws';
import { apiLinkHeaders } from '../../src/protocol/api-version.js';
import { Backoff } from '../../src/service/backoff.js';
import { answerCommand } from './sim-agent.js';

export interface SimAgentOptions {
  deviceId: string;
  token: string;
  /** API agent URLs (ws://…/api/agent), tried in turn. */
  urls: string[];
  /** The index in `urls` tried first. */
  firstIndex: number;
  /** Called with the index in `urls` of the API now held, or -1 when the link is down. */
  onState(urlIndex: number): void;
  heartbeatMs?: number;
}

const MAX_COMMAND_BYTES = 1024 * 1024;

export class SimAgentLink {
  private ws: WebSocket | undefined;
  private urlIndex: number;
  private stopped = false;
  private readonly backoff = new Backoff({ baseMs: 1000, maxMs: 30_000 });
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stableTimer: NodeJS.Timeout | undefined;
  commands = 0;

  constructor(private readonly opts: SimAgentOptions) {
    this.urlIndex = opts.firstIndex % opts.urls.length;
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeat);
    clearTimeout(this.stableTimer);
    this.ws?.terminate();
  }

  private connect(): void {
    const index = this.urlIndex;
    const ws = new WebSocket(this.opts.urls[index] as string, {
      headers: {
        authorization: `Bearer ${this.opts.token}`,
        'x-porthole-device': this.opts.deviceId,
        ...apiLinkHeaders(),
      },
      handshakeTimeout: 10_000,
      maxPayload: MAX_COMMAND_BYTES,
      perMessageDeflate: false,
    });
    this.ws = ws;
    let alive = true;
    let opened = false;
    ws.on('open', () => {
      opened = true;
      this.opts.onState(index);
      this.stableTimer = setTimeout(() => this.backoff.reset(), 10_000);
      this.heartbeat = setInterval(() => {
        if (!alive) return ws.terminate();
        alive = false;
        ws.ping();
      }, this.opts.heartbeatMs ?? 15_000);
    });
    ws.on('pong', () => (alive = true));
    ws.on('message', (data, isBinary) => {
      alive = true;
      if (isBinary) return;
      this.commands += 1;
      ws.send(JSON.stringify(answerCommand(data.toString())));
    });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      clearInterval(this.heartbeat);
      clearTimeout(this.stableTimer);
      if (opened) this.opts.onState(-1);
      if (this.stopped) return;
      this.urlIndex = (index + 1) % this.opts.urls.length;
      this.reconnectTimer = setTimeout(() => this.connect(), this.backoff.next());
    });
  }
}
