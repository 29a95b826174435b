/**
 * One viewer's desktop session: the glue between its WebRTC peer, the video pipeline, the input
 * injector and the clipboard. It routes, it does not decide: messages arrive validated and rate-limited
 * from the peer, and every platform difference sits behind the injector and clipboard interfaces.
 *
 * Held keys and buttons are released whenever the viewer can no longer send the matching "up": the
 * input channel closed, the connection dropped or failed, the session ended, input was dropped while
 * keys were held, or a viewer that sends heartbeats stopped sending them (it vanished: ICE would take
 * ~30 s to notice). The stream stays up after a missed heartbeat, for the viewer's return.
 *
 * Ctrl+Alt+Del (`ctrl_alt_del` on the control channel) is input, and follows the rule all input
 * follows: it comes from a viewer allowed to control (`control`, from its token's permissions; a
 * view-only viewer's `input` channel is refused outright, channel-permissions.ts) whose `input`
 * channel is open. The request goes to the service, the only process Windows lets send it. A viewer
 * without control is not sent the session's clipboard either: it may watch the screen, nothing more.
 *
 * Sound: when the peer's answer carries an audio track, the session listens to the helper's audio feed
 * while the peer is connected and the viewer has not said `audio off` (it may say `on` again).
 */
import {
  HEARTBEAT_TIMEOUT_MS,
  type ControlMessage,
  type HelperToViewer,
  type InputMessage,
} from '../../protocol/datachannel.js';
import type { Clipboard } from '../input/clipboard.js';
import type { InputInjector } from '../input/input-injector.js';
import type { SecureAttentionAnswer } from '../service-requests.js';
import type { DesktopPeer } from '../webrtc/desktop-peer.js';
import type { CursorFeed, VideoSource } from './video-source.js';
import type { AudioFeed } from '../audio/audio-hub.js';
import { type Logger } from '../../log/logger.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';

export interface DesktopSessionOptions {
  peer: DesktopPeer;
  source: VideoSource;
  injector: InputInjector;
  clipboard?: Clipboard;
  cursor?: CursorFeed;
  log: Pick<Logger, 'debug' | 'info' | 'warn'>;
  timers?: Timers;
  /** How long after the last heartbeat the viewer's input is released (once it has sent one). */
  heartbeatTimeoutMs?: number;
  /** Asks the service for Ctrl+Alt+Del in this session (default: none, answered `unsupported`). */
  secureAttention?: () => Promise<SecureAttentionAnswer>;
  /** False for a view-only viewer: no Ctrl+Alt+Del, no clipboard sent to it (default true). */
  control?: boolean;
  /** The session's sound (audio/audio-hub.ts); without it, or without an audio track, no sound. */
  audio?: AudioFeed;
}

export interface DesktopSession {
  /** Unhooks everything, releases held input and closes the source, injector, clipboard and cursor feed (not the peer). */
  close(): Promise<void>;
}

type ErrorReply = Extract<HelperToViewer, { type: 'error' }>;

export function createDesktopSession(opts: DesktopSessionOptions): DesktopSession {
  const { peer, source, injector, clipboard, cursor, log } = opts;
  const timers = opts.timers ?? realTimers;
  const heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS;
  const mayControl = opts.control ?? true;
  const unhook: (() => void)[] = [];
  let closed = false;
  /** Armed by the first heartbeat; a viewer that never sends one is never timed out. */
  let heartbeatTimer: TimerHandle | undefined;
  /** A Ctrl+Alt+Del request is with the service: one at a time per viewer. */
  let sasPending = false;
  /** The viewer's `audio` choice (on until it says off), and the feed subscription while listening. */
  let audioWanted = true;
  let audioOff: (() => void) | undefined;

  const syncAudio = (): void => {
    const listen = !closed && audioWanted && peer.hasAudio && peer.state === 'connected' && !!opts.audio;
    if (listen && !audioOff) {
      audioOff = opts.audio?.subscribe(
        (p) => peer.sendAudio(p.data, p.timestampUs),
        (reason) => reply('failed', `no sound from this session: ${reason}`, 'audio'),
      );
    } else if (!listen && audioOff) {
      audioOff();
      audioOff = undefined;
    }
  };

  const setAudio = (on: boolean): void => {
    if (!peer.hasAudio || !opts.audio) {
      return reply(
        'unsupported',
        'this desktop carries no sound (turned off on this machine, or not offered)',
        'audio',
      );
    }
    audioWanted = on;
    syncAudio();
  };

  const onHeartbeat = (): void => {
    timers.clearTimeout(heartbeatTimer);
    heartbeatTimer = timers.setTimeout(() => {
      heartbeatTimer = undefined;
      log.info({ timeoutMs: heartbeatTimeoutMs }, 'no heartbeat from the viewer: released its input');
      injector.releaseAll();
    }, heartbeatTimeoutMs);
    heartbeatTimer.unref();
  };

  const reply = (code: ErrorReply['code'], message: string, about: string): void => {
    peer.sendControl({ type: 'error', code, message, about });
  };

  const sendDisplays = (): void => {
    peer.sendControl({ type: 'displays', displays: source.displays(), current: source.currentDisplay });
  };

  /** The rectangle the viewer sees, into which its normalised pointer positions map. */
  const currentRect = (): { x: number; y: number; width: number; height: number } | undefined =>
    source.displays()[source.currentDisplay];

  function routeInput(msg: InputMessage): void {
    switch (msg.type) {
      case 'pointer_move': {
        const rect = currentRect();
        if (rect) injector.pointerMove(rect, msg.x, msg.y);
        return;
      }
      case 'pointer_button': {
        const rect = currentRect();
        if (rect && msg.x !== undefined && msg.y !== undefined) injector.pointerMove(rect, msg.x, msg.y);
        injector.button(msg.button, msg.down);
        return;
      }
      case 'wheel':
        injector.wheel(msg.dx, msg.dy);
        return;
      case 'key':
        injector.key(msg.code, msg.down);
        return;
      case 'text':
        injector.text(msg.text);
        return;
      case 'clipboard':
        if (!clipboard) return reply('unsupported', 'this session has no clipboard access', 'clipboard');
        clipboard.write(msg.text).catch((err: unknown) => {
          log.warn({ err: String(err) }, 'clipboard write failed');
          reply('failed', 'could not set the session clipboard', 'clipboard');
        });
        return;
    }
  }

  async function selectDisplay(index: number): Promise<void> {
    if (index >= source.displays().length) {
      return reply('bad_message', `there is no display ${index}`, 'select_display');
    }
    try {
      await source.setDisplay(index);
      source.requestKeyframe();
      sendDisplays();
    } catch (err) {
      log.warn({ index, err: String(err) }, 'display switch failed');
      reply('failed', 'could not switch display', 'select_display');
    }
  }

  async function secureAttention(): Promise<void> {
    if (!mayControl) {
      log.warn({}, 'Ctrl+Alt+Del refused: the viewer is view-only');
      return reply('unsupported', 'this viewer is view-only: Ctrl+Alt+Del is control', 'ctrl_alt_del');
    }
    if (!peer.isChannelOpen('input')) {
      return reply(
        'unsupported',
        'Ctrl+Alt+Del is input: this viewer has no input channel open',
        'ctrl_alt_del',
      );
    }
    if (sasPending) return reply('rate_limited', 'a Ctrl+Alt+Del is already on its way', 'ctrl_alt_del');
    if (!opts.secureAttention) {
      return reply('unsupported', 'Ctrl+Alt+Del cannot be sent to this session', 'ctrl_alt_del');
    }
    sasPending = true;
    let answer: SecureAttentionAnswer;
    try {
      answer = await opts.secureAttention();
    } finally {
      sasPending = false;
    }
    if (closed) return;
    if (answer.outcome === 'sent') return log.info({}, 'Ctrl+Alt+Del sent by the service');
    reply(answer.outcome, answer.reason ?? 'Ctrl+Alt+Del was not sent', 'ctrl_alt_del');
  }

  function routeControl(msg: ControlMessage): void {
    switch (msg.type) {
      case 'heartbeat':
        onHeartbeat();
        return;
      case 'ctrl_alt_del':
        void secureAttention().catch((err: unknown) =>
          log.warn({ err: String(err) }, 'Ctrl+Alt+Del request failed'),
        );
        return;
      case 'select_display':
        void selectDisplay(msg.index);
        return;
      case 'keyframe':
        source.requestKeyframe();
        return;
      case 'rate':
        source.setRate({ bitrate: msg.bitrate, fps: msg.fps });
        return;
      case 'audio':
        setAudio(msg.state === 'on');
        return;
    }
  }

  unhook.push(
    source.onAccessUnit((unit) => {
      peer.sendVideo(unit.data, unit.timestampUs, unit.bitrate);
    }),
    peer.onKeyframeRequest((reason) => {
      log.debug({ reason }, 'keyframe requested by the viewer');
      source.requestKeyframe();
    }),
    peer.onInput(routeInput),
    peer.onReleaseInput(() => injector.releaseAll()),
    peer.onControl(routeControl),
    peer.onChannel((label, open) => {
      if (label === 'input' && !open) injector.releaseAll();
      if (label === 'control' && open) sendDisplays();
    }),
    peer.onState((state) => {
      // Frames encoded before the track opened were dropped, the first IDR among them: start the
      // viewer's decoder with a fresh one rather than waiting for its PLI.
      if (state === 'connected') source.requestKeyframe();
      else injector.releaseAll();
      syncAudio();
    }),
  );
  if (clipboard && mayControl)
    unhook.push(clipboard.onChange((text) => peer.sendControl({ type: 'clipboard', text })));
  if (cursor) unhook.push(cursor.onCursor((msg) => peer.sendCursor(msg)));
  // In case the control channel opened before the session was attached (a no-op otherwise).
  sendDisplays();
  syncAudio();

  return {
    async close() {
      if (closed) return;
      closed = true;
      timers.clearTimeout(heartbeatTimer);
      syncAudio();
      for (const off of unhook.splice(0)) off();
      injector.releaseAll();
      injector.close();
      clipboard?.close();
      cursor?.close();
      await source.close();
    },
  };
}
