import type { Logger } from '../../log/logger.js';
import type { DisplayInfo } from '../../protocol/common.js';
import type { DesktopStart } from '../../protocol/ipc.js';
import type { DesktopHost } from './desktop-host.js';
import { createDesktopPeer, type DesktopPeer } from '../webrtc/desktop-peer.js';

/** Media and input attached to one answered peer (capture → encode → track, input → injector). */
export interface AttachedMedia {
  close(): void | Promise<void>;
}

export interface WebRtcDesktopHostOptions {
  log: Logger;
  /** The session's displays, or why it cannot be captured. */
  probe(): Promise<{ canCapture: boolean; displays: DisplayInfo[]; reason?: string }>;
  /** Wires media and input to a new peer; called once its answer is ready. */
  attach(peer: DesktopPeer, req: DesktopStart): AttachedMedia | Promise<AttachedMedia>;
  maxConnections?: number;
}

/** A DesktopHost that answers each offer with a node-datachannel peer and attaches media to it. */
export class WebRtcDesktopHost implements DesktopHost {
  private readonly connections = new Map<string, { peer: DesktopPeer; media?: AttachedMedia }>();
  private closedListener: (id: string, why: string) => void = () => {};

  constructor(private readonly opts: WebRtcDesktopHostOptions) {}

  capabilities(): ReturnType<DesktopHost['capabilities']> {
    return this.opts.probe();
  }

  async start(req: DesktopStart): Promise<string> {
    if (this.connections.has(req.sessionId)) await this.stop(req.sessionId);
    if (this.connections.size >= (this.opts.maxConnections ?? 8)) {
      throw new Error(`too many desktop connections (${this.connections.size})`);
    }
    const log = this.opts.log.child({ desktop: req.sessionId });
    const { answer, peer } = await createDesktopPeer({ offer: req.offer, iceServers: req.iceServers, log });
    const entry: { peer: DesktopPeer; media?: AttachedMedia } = { peer };
    this.connections.set(req.sessionId, entry);
    peer.onState((state) => {
      log.info({ state }, 'peer state');
      if ((state === 'failed' || state === 'closed') && this.connections.get(req.sessionId) === entry) {
        void this.teardown(req.sessionId, entry).then(() =>
          this.closedListener(req.sessionId, `peer ${state}`),
        );
      }
    });
    try {
      entry.media = await this.opts.attach(peer, req);
    } catch (err) {
      await this.teardown(req.sessionId, entry);
      throw err;
    }
    return answer;
  }

  async stop(desktopId: string): Promise<boolean> {
    const entry = this.connections.get(desktopId);
    if (!entry) return false;
    await this.teardown(desktopId, entry);
    return true;
  }

  onClosed(listener: (desktopId: string, why: string) => void): void {
    this.closedListener = listener;
  }

  async close(): Promise<void> {
    await Promise.all([...this.connections].map(([id, e]) => this.teardown(id, e)));
  }

  get activeConnections(): number {
    return this.connections.size;
  }

  private async teardown(id: string, entry: { peer: DesktopPeer; media?: AttachedMedia }): Promise<void> {
    if (this.connections.get(id) !== entry) return;
    this.connections.delete(id);
    try {
      await entry.media?.close();
    } finally {
      entry.peer.close();
    }
  }
}
