/**
 * WebRTC first, the WebSocket relay when WebRTC cannot make it (design/VIEWER.md, "WebSocket relay"):
 * - at once when the browser has no RTCPeerConnection (WebKitGTK, the Tauri shell on Linux);
 * - when the first peer connection is not connected ICE_FALLBACK_MS after its answer was applied, or
 *   its ICE fails before that (the WebRTC connection then reports `reconnecting` or `failed`).
 * The clock starts at the answer, not at the request: a start that waits for the consent of the person
 * at the machine (up to minutes) is not an ICE failure, and a refusal (403) or any other error of the
 * request is the viewer's answer, never a reason to ask again over the relay.
 * A desktop that connected over WebRTC once stays on WebRTC: its later drops are reconnected as before.
 */
import type { ConnectionEvents, ConnectionState, DesktopConnection } from './desktop-connection.js';
import type { StatsEntry } from './stats.js';
import type { ControlMessage, InputMessage } from '../protocol/datachannel.js';

/**
 * ICE through a TURN relay over TCP/TLS needs a few round trips plus the allocation; Chromium itself
 * declares a pair failed after ~30 s. 10 s leaves a slow path its chance and keeps the wait bearable.
 */
export const ICE_FALLBACK_MS = 10_000;

export interface FallbackOptions {
  webrtc(events: ConnectionEvents): DesktopConnection;
  relay(events: ConnectionEvents): DesktopConnection;
  /** Whether this browser has WebRTC at all. */
  hasWebRtc: boolean;
  iceTimeoutMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class FallbackConnection implements DesktopConnection {
  private inner: DesktopConnection | undefined;
  private relayed = false;
  private everConnected = false;
  /** The first WebRTC attempt has its answer: ICE runs, and its failures may send us to the relay. */
  private answered = false;
  private timer: unknown;
  private stopped = false;
  private audioWanted: boolean | undefined;

  constructor(
    private readonly opts: FallbackOptions,
    private readonly events: ConnectionEvents,
  ) {}

  get state(): ConnectionState {
    return this.inner?.state ?? (this.stopped ? 'closed' : 'connecting');
  }

  /** Whether the desktop goes over the relay (now or from the start). */
  get isRelayed(): boolean {
    return this.relayed;
  }

  async start(): Promise<void> {
    if (!this.opts.hasWebRtc) return this.startRelay();
    const conn = this.opts.webrtc(this.eventsFor(() => conn));
    this.inner = conn;
    if (this.audioWanted === false) conn.setAudioWanted?.(false);
    await conn.start();
    if (this.stopped || this.everConnected || this.relayed || this.inner !== conn) return;
    this.answered = true;
    this.timer = (this.opts.setTimer ?? setTimeout)(
      () => this.fallBack(`not connected within ${Math.round(this.timeoutMs / 1000)} s`),
      this.timeoutMs,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await this.inner?.stop();
  }

  sendInput(msg: InputMessage): void {
    this.inner?.sendInput(msg);
  }

  sendControl(msg: ControlMessage): void {
    this.inner?.sendControl(msg);
  }

  setAudioWanted(on: boolean): void {
    this.audioWanted = on;
    this.inner?.setAudioWanted?.(on);
  }

  sendChat(text: string): boolean {
    return this.inner?.sendChat(text) ?? false;
  }

  stats(): Promise<Iterable<StatsEntry> | undefined> {
    return this.inner?.stats() ?? Promise.resolve(undefined);
  }

  private get timeoutMs(): number {
    return this.opts.iceTimeoutMs ?? ICE_FALLBACK_MS;
  }

  private async startRelay(): Promise<void> {
    this.relayed = true;
    const conn = this.opts.relay(this.eventsFor(() => conn));
    this.inner = conn;
    await conn.start();
  }

  /** The events of one inner connection; once it is replaced, what it still says is ignored. */
  private eventsFor(self: () => DesktopConnection): ConnectionEvents {
    const current = (): boolean => this.inner === self();
    return {
      onState: (state, detail) => {
        if (!current()) return;
        if (!this.relayed && !this.everConnected) {
          if (state === 'connected') {
            this.everConnected = true;
            this.clearTimer();
          } else if (this.answered && (state === 'reconnecting' || state === 'failed')) {
            this.fallBack(detail ?? 'WebRTC could not connect');
            return;
          }
        }
        this.events.onState(state, detail);
      },
      onStream: (s) => current() && this.events.onStream(s),
      onVideoFrame: (f) => (current() && this.events.onVideoFrame ? this.events.onVideoFrame(f) : f.close()),
      onAudio: (s) => current() && this.events.onAudio?.(s),
      onHelperMessage: (m) => current() && this.events.onHelperMessage(m),
      onFilesChannel: (c) => current() && this.events.onFilesChannel?.(c),
      onChat: (m) => current() && this.events.onChat?.(m),
    };
  }

  private fallBack(why: string): void {
    this.clearTimer();
    if (this.stopped || this.relayed || this.everConnected) return;
    const old = this.inner;
    console.info('porthole: WebRTC did not connect, switching to the WebSocket relay:', why);
    this.startRelay().catch((err: unknown) => {
      if (!this.stopped) this.events.onState('failed', err instanceof Error ? err.message : String(err));
    });
    // After startRelay replaced `inner`: the old connection's closing is not reported.
    void old?.stop();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) (this.opts.clearTimer ?? clearTimeout)(this.timer as never);
    this.timer = undefined;
  }
}
