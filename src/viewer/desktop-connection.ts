/**
 * What the UI needs from "a desktop being viewed", whichever way it is made: over WebRTC
 * (webrtc-connection.ts) or, in the layout tests, from a generated test pattern (test-connection.ts).
 */
import type { ChatFromHelper } from '../protocol/chat.js';
import type { ControlMessage, HelperToViewer, InputMessage } from '../protocol/datachannel.js';
import type { StatsEntry } from './stats.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface ConnectionTarget {
  deviceId: string;
  /** The OS session to view; absent lets the service pick (affinity, then the console). */
  targetSessionId?: number;
  displayIndex?: number;
}

export interface ConnectionEvents {
  /** `detail` is a human-readable reason for 'reconnecting' and 'failed'. */
  onState(state: ConnectionState, detail?: string): void;
  onStream(stream: MediaStream): void;
  /**
   * One decoded frame of a relayed desktop (relay-connection.ts), to draw and then close; a handler
   * that does not draw it must still close it.
   */
  onVideoFrame?(frame: VideoFrame): void;
  /** The desktop's sound, when the machine sends it (an audio track in the answer). */
  onAudio?(stream: MediaStream): void;
  /** Already validated against the protocol. */
  onHelperMessage(msg: HelperToViewer): void;
  /** The `files` channel opened (reliable, ordered); file-transfers.ts speaks on it. */
  onFilesChannel?(channel: RTCDataChannel): void;
  /** A chat line or notice from the machine, already validated. */
  onChat?(msg: ChatFromHelper): void;
}

export interface DesktopConnection {
  readonly state: ConnectionState;
  start(): Promise<void>;
  /** Stops the desktop on the device (DELETE) and closes the peer; safe to call twice. */
  stop(): Promise<void>;
  sendInput(msg: InputMessage): void;
  sendControl(msg: ControlMessage): void;
  /**
   * Whether this viewer wants the machine's sound; kept across reconnects (a new peer starts with
   * sound on at the machine, so `off` is said again once its control channel opens).
   */
  setAudioWanted?(on: boolean): void;
  /** Sends a chat line (already a valid line); false when the chat channel is not open. */
  sendChat(text: string): boolean;
  /** Current getStats() entries, or undefined while there is no peer connection. */
  stats(): Promise<Iterable<StatsEntry> | undefined>;
}

export type ConnectionFactory = (target: ConnectionTarget, events: ConnectionEvents) => DesktopConnection;
