import type { DisplayInfo } from '../../protocol/common.js';
import type { DesktopAddPeer, DesktopStart } from '../../protocol/ipc.js';
import type { DesktopAuditEvent } from '../../protocol/audit-event.js';

/** What the helper's IPC loop needs from the media side: capabilities and desktop connections. */
export interface DesktopHost {
  /** Reported to the service once, right after the handshake. */
  capabilities(): Promise<{ canCapture: boolean; displays: DisplayInfo[]; reason?: string }>;
  /**
   * Answers a viewer's offer and resolves with the SDP answer, or (`req.relay`) connects the desktop to
   * the WebSocket relay and resolves with undefined.
   */
  start(req: DesktopStart): Promise<string | undefined>;
  /**
   * A second peer for a running desktop of the same viewer (its network changed): resolves with the
   * new peer's SDP answer; the host swaps it in for the old peer once it connects. Rejects with
   * `no_such_desktop` when there is no such desktop, or it is another viewer's.
   */
  addPeer?(req: DesktopAddPeer): Promise<string>;
  /** Ends one desktop connection; false when there was none with that id. */
  stop(desktopId: string): Promise<boolean>;
  /** A connection ended on its own (viewer left, ICE failed). */
  onClosed(listener: (desktopId: string, why: string) => void): void;
  /** What happened inside a desktop for the audit log (metadata only): e.g. a file moved. */
  onAudit?(listener: (event: DesktopAuditEvent) => void): void;
  /** Ends every connection and frees capture, encoder and input resources. */
  close(): Promise<void>;
}
