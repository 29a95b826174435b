/**
 * The machine's limits on one desktop connection (`desktop_start.limits`, from the service's
 * `access` policy): a maximum length counted from the moment the peer connected, and an idle timeout
 * counted from the viewer's last action. `warnMs` before either cut the viewer is told the time left
 * (`session_limit` on `control`); at the cut it is told `remainingMs: 0`, and the connection ends
 * CUT_DELAY_MS later, so that message can still leave.
 *
 * An action is what a person does: input (pointer, keys, wheel, text, clipboard) and the control
 * requests a person makes (display switch, Ctrl+Alt+Del). Heartbeats, keyframe and rate requests are
 * the viewer's machinery and do not count, so watching alone is idle: a forgotten tab ends.
 * After an idle warning, the next action is answered with the idle time left again, for the viewer
 * to clear its warning.
 *
 * Time comes from injected timers; pointer moves arrive hundreds of times a second, so an action only
 * records the time, and the one idle timer re-arms itself for what is left when it fires.
 */
import type { SessionLimitReason } from '../../protocol/datachannel.js';
import type { DesktopLimits } from '../../protocol/ipc.js';
import type { TimerHandle, Timers } from '../../time/timers.js';

/** Between the cut notice and the end of the connection. */
export const CUT_DELAY_MS = 250;

export interface SessionLimitsOptions {
  limits: DesktopLimits;
  timers: Timers;
  /** Tells the viewer the time left (0: cut now). */
  notify(reason: SessionLimitReason, remainingMs: number): void;
  /** Ends the connection (once). */
  cut(reason: SessionLimitReason): void;
}

export class SessionLimits {
  private readonly timers: Timers;
  private started = false;
  private done = false;
  private lastAction = 0;
  private idleWarned = false;
  private maxWarn: TimerHandle | undefined;
  private maxCut: TimerHandle | undefined;
  private idleTimer: TimerHandle | undefined;
  private cutTimer: TimerHandle | undefined;

  constructor(private readonly opts: SessionLimitsOptions) {
    this.timers = opts.timers;
  }

  /** The peer connected: the clocks start (once). */
  start(): void {
    if (this.started || this.done) return;
    this.started = true;
    const { maxSessionMs, idleMs, warnMs } = this.opts.limits;
    const now = this.timers.now();
    if (maxSessionMs !== undefined) {
      if (warnMs > 0 && warnMs < maxSessionMs) {
        this.maxWarn = this.arm(() => this.opts.notify('max_length', warnMs), maxSessionMs - warnMs);
      }
      this.maxCut = this.arm(() => this.cutNow('max_length'), maxSessionMs);
    }
    if (idleMs !== undefined) {
      this.lastAction = now;
      this.armIdle(this.idleCheckIn(now));
    }
  }

  /** The viewer did something (see the module comment for what counts). */
  action(): void {
    if (this.done) return;
    this.lastAction = this.timers.now();
    if (this.idleWarned) {
      this.idleWarned = false;
      const idleMs = this.opts.limits.idleMs;
      if (idleMs !== undefined) this.opts.notify('idle', idleMs);
    }
  }

  /** Stops every timer (the connection ended for any reason). */
  close(): void {
    this.done = true;
    for (const t of [this.maxWarn, this.maxCut, this.idleTimer, this.cutTimer]) this.timers.clearTimeout(t);
  }

  /** When the idle timer should next look, from `now`: at the warning if it is still ahead, else the cut. */
  private idleCheckIn(now: number): number {
    const { idleMs, warnMs } = this.opts.limits;
    const idleFor = now - this.lastAction;
    const warnAt = idleMs! - warnMs;
    if (!this.idleWarned && warnMs > 0 && idleFor < warnAt) return warnAt - idleFor;
    return Math.max(0, idleMs! - idleFor);
  }

  private armIdle(ms: number): void {
    this.timers.clearTimeout(this.idleTimer);
    this.idleTimer = this.arm(() => this.onIdleTimer(), ms);
  }

  private onIdleTimer(): void {
    if (this.done) return;
    const { idleMs, warnMs } = this.opts.limits;
    const now = this.timers.now();
    const idleFor = now - this.lastAction;
    if (idleFor >= idleMs!) return this.cutNow('idle');
    if (!this.idleWarned && warnMs > 0 && idleFor >= idleMs! - warnMs) {
      this.idleWarned = true;
      this.opts.notify('idle', idleMs! - idleFor);
    }
    this.armIdle(this.idleCheckIn(now));
  }

  private cutNow(reason: SessionLimitReason): void {
    if (this.done) return;
    this.close();
    this.opts.notify(reason, 0);
    this.cutTimer = this.timers.setTimeout(() => this.opts.cut(reason), CUT_DELAY_MS);
  }

  private arm(fn: () => void, ms: number): TimerHandle {
    const t = this.timers.setTimeout(fn, ms);
    t.unref();
    return t;
  }
}
