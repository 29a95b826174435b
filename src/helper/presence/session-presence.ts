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
import type { SessionLimitReason } from '../../protocol/datachannel.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';
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
  /** The clock of the limit notices' countdown (default: the real one). */
  timers?: Timers;
}

/** A desktop about to be cut by a session limit, as the person at the machine is told. */
interface LimitNotice {
  reason: SessionLimitReason;
  /** On the timers' clock. */
  endsAt: number;
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
/** How often a limit notice's countdown is redrawn (only when its text changed). */
const NOTICE_TICK_MS = 1000;

function shortName(name: string | undefined): string {
  if (name === undefined) return 'Someone';
  const s = [...shownViewerName(name)];
  return s.length > MAX_NAME_CHARS ? `${s.slice(0, MAX_NAME_CHARS - 1).join('')}…` : s.join('');
}

/** "1 min", "2 min" from a minute on (rounded), then seconds (rounded up: never "0 s" before the cut). */
function timeLeft(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.max(1, Math.ceil(ms / 1000))} s`;
}

/** "alice is viewing this screen", "alice and bob are …", "alice, bob and 3 others are …". */
export function indicatorText(names: (string | undefined)[]): string {
  const shown = [...new Set(names.map(shortName))];
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
  /** Per desktop: a warning of its coming cut, shown on the indicator until it is cleared or the desktop left. */
  private readonly notices = new Map<string, LimitNotice>();
  private noticeTick: TimerHandle | undefined;
  private shownText: string | undefined;
  private chatUnavailable: string | undefined;
  private readonly timers: Timers;

  constructor(private readonly opts: SessionPresenceOptions) {
    this.timers = opts.timers ?? realTimers;
  }

  /** A desktop reached `connected`. */
  connected(desktopId: string, viewer: string | undefined, peer: PresencePeer): void {
    this.left(desktopId);
    const entry: Viewer = { name: viewer, peer, chatAudited: false, off: () => {} };
    entry.off = peer.onChat((msg) => this.fromViewer(desktopId, entry, msg.text));
    this.viewers.set(desktopId, entry);
    this.refresh();
  }

  /**
   * A connected desktop moved to a new peer (the viewer's network changed): the same viewer, so the
   * indicator does not change; its chat now comes and goes on the new peer.
   */
  moved(desktopId: string, peer: PresencePeer): void {
    const entry = this.viewers.get(desktopId);
    if (!entry) return;
    entry.off();
    entry.peer = peer;
    entry.off = peer.onChat((msg) => this.fromViewer(desktopId, entry, msg.text));
  }

  /** A desktop ended (whatever ended it); the last one closes the indicator and the chat window. */
  left(desktopId: string): void {
    const entry = this.viewers.get(desktopId);
    if (!entry) return;
    entry.off();
    this.viewers.delete(desktopId);
    this.notices.delete(desktopId);
    this.refresh();
  }

  /**
   * A connected desktop will be cut by a session limit in `remainingMs`: the indicator says so and counts
   * down ("session ends in 1 min (idle)"). Without a reason (or with nothing left) the notice is cleared:
   * its idle clock restarted, or it is being cut now.
   */
  limitNotice(desktopId: string, reason?: SessionLimitReason, remainingMs = 0): void {
    if (reason === undefined || remainingMs <= 0) this.notices.delete(desktopId);
    else if (this.viewers.has(desktopId))
      this.notices.set(desktopId, { reason, endsAt: this.timers.now() + remainingMs });
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

  /** `countdown`: only a notice's time changed, so a window that could not be opened is not retried. */
  private refresh(countdown = false): void {
    if (this.viewers.size === 0) {
      this.closeWindows();
      return;
    }
    const base = indicatorText([...this.viewers.values()].map((v) => v.name));
    const notice = this.noticeText();
    const text = notice ? `${base} - ${notice}` : base;
    this.armNoticeTick();
    if (this.indicator) {
      if (text !== this.shownText) this.indicator.setText(text);
      this.shownText = text;
      return;
    }
    if (!this.opts.openIndicator || countdown) return;
    this.shownText = text;
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

  /** The soonest cut, named after its viewer when several are connected. */
  private noticeText(): string | undefined {
    let soonest: [string, LimitNotice] | undefined;
    for (const n of this.notices) if (!soonest || n[1].endsAt < soonest[1].endsAt) soonest = n;
    if (!soonest) return undefined;
    const [desktopId, { reason, endsAt }] = soonest;
    const whose =
      this.viewers.size > 1 ? `${shortName(this.viewers.get(desktopId)?.name)}'s session` : 'session';
    const why = reason === 'idle' ? 'idle' : 'time limit';
    return `${whose} ends in ${timeLeft(endsAt - this.timers.now())} (${why})`;
  }

  /** While a notice is shown, its countdown is redrawn every second; none left, no timer. */
  private armNoticeTick(): void {
    this.timers.clearTimeout(this.noticeTick);
    this.noticeTick = undefined;
    if (this.notices.size === 0 || this.viewers.size === 0) return;
    this.noticeTick = this.timers.setTimeout(() => {
      this.noticeTick = undefined;
      this.refresh(true);
    }, NOTICE_TICK_MS);
    this.noticeTick.unref();
  }

  private closeWindows(): void {
    const { indicator, chat } = this;
    this.indicator = undefined;
    this.chat = undefined;
    this.chatUnavailable = undefined;
    this.shownText = undefined;
    this.notices.clear();
    this.timers.clearTimeout(this.noticeTick);
    this.noticeTick = undefined;
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
