/**
 * What the person at the machine sees of the viewers, for one helper (one session): the "being viewed"
 * indicator while at least one viewer is connected, and the chat between them and that person.
 *
 * - The indicator opens when a desktop **connects** (not at the offer: a viewer that never connects
 *   saw nothing) and closes when the last connected one ends; its text names the viewers
 *   (`start_desktop.viewer`, the API's token name). Disconnect ends every desktop of the session.
 * - A chat line from a viewer goes to the session's chat window with the viewer's name; the person's
 *   answer goes to every connected viewer with a `chat` channel. Chat used on a desktop is audited
 *   once for that desktop (`{kind: "chat"}`), never the text.
 * - An indicator or chat window that cannot be shown is logged, never fatal: the desktop still runs
 *   (consent is the policy that asks the person; the indicator only informs them).
 */
import { errorMessage } from '../../errors/error-text.js';
import type { Logger } from '../../log/logger.js';
import type { DesktopAuditEvent } from '../../protocol/audit-event.js';
import { chatLine, type ChatFromHelper, type ChatMessage } from '../../protocol/chat.js';
import { shownViewerName } from '../../protocol/consent-text.js';
import type { ChatWindow, OpenChatWindow } from './chat-window.js';
import type { IndicatorWindow, OpenIndicator } from './indicator.js';

/** What the presence needs of a connected desktop's peer. */
export interface PresencePeer {
  onChat(cb: (msg: ChatMessage) => void): () => void;
  sendChat(msg: ChatFromHelper): boolean;
}

export interface SessionPresenceOptions {
  log: Pick<Logger, 'info' | 'warn'>;
  openIndicator?: OpenIndicator;
  openChatWindow?: OpenChatWindow;
  /** Disconnect pressed: end every desktop of this session. */
  disconnectAll(): void;
  audit?(event: DesktopAuditEvent): void;
}

interface Viewer {
  name: string | undefined;
  peer: PresencePeer;
  off: () => void;
  chatAudited: boolean;
}

/** Names shown in the indicator: a few, each short; the rest counted. */
const MAX_NAMES_SHOWN = 2;
const MAX_NAME_CHARS = 40;

/** "alice is viewing this screen", "alice and bob are …", "alice, bob and 3 others are …". */
export function indicatorText(names: (string | undefined)[]): string {
  const shown = [
    ...new Set(
      names.map((n) => {
        if (n === undefined) return 'Someone';
        const s = [...shownViewerName(n)];
        return s.length > MAX_NAME_CHARS ? `${s.slice(0, MAX_NAME_CHARS - 1).join('')}…` : s.join('');
      }),
    ),
  ];
  if (shown.length === 0) return '';
  if (shown.length === 1) return `${shown[0]} is viewing this screen`;
  const listed = shown.slice(0, MAX_NAMES_SHOWN);
  const rest = shown.length - listed.length;
  const who =
    rest === 0 ? `${listed.join(' and ')}` : `${listed.join(', ')} and ${rest} other${rest === 1 ? '' : 's'}`;
  return `${who} are viewing this screen`;
}

export class SessionPresence {
  private readonly viewers = new Map<string, Viewer>();
  private indicator: IndicatorWindow | undefined;
  private chat: ChatWindow | undefined;
  private notice: string | undefined;
  private chatUnavailable: string | undefined;

  constructor(private readonly opts: SessionPresenceOptions) {}

  /** A desktop reached `connected`. */
  connected(desktopId: string, viewer: string | undefined, peer: PresencePeer): void {
    this.left(desktopId);
    const entry: Viewer = { name: viewer, peer, chatAudited: false, off: () => {} };
    entry.off = peer.onChat((msg) => this.fromViewer(desktopId, entry, msg.text));
    this.viewers.set(desktopId, entry);
    this.refresh();
  }

  /** A desktop ended (whatever ended it); the last one closes the indicator and the chat window. */
  left(desktopId: string): void {
    const entry = this.viewers.get(desktopId);
    if (!entry) return;
    entry.off();
    this.viewers.delete(desktopId);
    this.refresh();
  }

  /** A line the indicator adds to its text while viewers are connected (e.g. a session limit); undefined clears it. */
  setNotice(text: string | undefined): void {
    this.notice = text;
    this.refresh();
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Everything closed (the helper is stopping). */
  close(): void {
    for (const id of [...this.viewers.keys()]) this.left(id);
    this.closeWindows();
  }

  private refresh(): void {
    if (this.viewers.size === 0) {
      this.closeWindows();
      return;
    }
    const base = indicatorText([...this.viewers.values()].map((v) => v.name));
    const text = this.notice ? `${base} - ${this.notice}` : base;
    if (this.indicator) {
      this.indicator.setText(text);
      return;
    }
    if (!this.opts.openIndicator) return;
    try {
      this.indicator = this.opts.openIndicator(text, {
        disconnect: () => {
          this.opts.log.info({ viewers: this.viewers.size }, 'the person at the machine pressed Disconnect');
          this.opts.disconnectAll();
        },
        chat: () => this.chatWindow()?.open(),
      });
    } catch (err) {
      this.opts.log.warn({ err: errorMessage(err) }, 'cannot show the being-viewed indicator');
    }
  }

  private closeWindows(): void {
    const { indicator, chat } = this;
    this.indicator = undefined;
    this.chat = undefined;
    this.chatUnavailable = undefined;
    this.notice = undefined;
    for (const w of [chat, indicator]) {
      try {
        w?.close();
      } catch (err) {
        this.opts.log.warn({ err: errorMessage(err) }, 'closing a presence window failed');
      }
    }
  }

  private chatWindow(): ChatWindow | undefined {
    if (this.chat || this.chatUnavailable !== undefined || this.viewers.size === 0) return this.chat;
    if (!this.opts.openChatWindow) {
      this.unavailable('this machine shows no chat window');
      return undefined;
    }
    try {
      this.chat = this.opts.openChatWindow({
        reply: (text) => this.fromPerson(text),
        unavailable: (reason) => this.unavailable(reason),
      });
    } catch (err) {
      this.unavailable(errorMessage(err));
    }
    return this.chat;
  }

  private fromViewer(desktopId: string, entry: Viewer, text: string): void {
    if (this.viewers.get(desktopId) !== entry) return;
    this.audit(desktopId, entry);
    // Known before this line: answer it; found out now: unavailable() has told everyone.
    if (this.chatUnavailable !== undefined) return this.sayUnavailable(entry);
    const window = this.chatWindow();
    if (!window) return;
    window.show(entry.name === undefined ? 'Viewer' : shownViewerName(entry.name), text);
  }

  private fromPerson(raw: string): void {
    const text = chatLine(raw);
    if (text === undefined) return;
    for (const [id, entry] of this.viewers) {
      if (entry.peer.sendChat({ type: 'message', text })) this.audit(id, entry);
    }
  }

  /** The window could not be shown: every later line is answered `unavailable` until the viewers are gone. */
  private unavailable(reason: string): void {
    const first = this.chatUnavailable === undefined;
    this.chatUnavailable = reason.slice(0, 500);
    const chat = this.chat;
    this.chat = undefined;
    chat?.close();
    if (!first) return;
    this.opts.log.warn({ reason }, 'no chat window in this session');
    // Said once to everyone connected (the window may fail after the first line was handed to it).
    for (const entry of this.viewers.values()) this.sayUnavailable(entry);
  }

  private sayUnavailable(entry: Viewer): void {
    entry.peer.sendChat({
      type: 'error',
      code: 'unavailable',
      message: this.chatUnavailable ?? 'this machine shows no chat window',
    });
  }

  private audit(desktopId: string, entry: Viewer): void {
    if (entry.chatAudited) return;
    entry.chatAudited = true;
    this.opts.audit?.({ kind: 'chat', desktop: desktopId });
  }
}
