/**
 * Consent before a desktop starts (attended access): the broker asks this gate after the session's
 * helper is ready and before `desktop_start`, so no peer exists until the person at the machine said
 * yes. The gate decides whether to ask (access-policy.ts), shows the prompt through the platform's
 * ConsentPrompter (X11: the session's helper runs it as the user; Windows: WTSSendMessageW from the
 * service), turns the answer into a go-ahead or a coded refusal, reports the `consent` audit event,
 * and remembers an acceptance for the viewer's reconnects (`consentHoldMs`).
 *
 * Bounds, so a viewer cannot pester the person at the machine: one prompt per viewer and session at a
 * time (a second start_desktop waits for the same answer), at most MAX_PROMPTS_PER_SESSION prompts on
 * screen per session, and a viewer just denied is refused without a prompt for DENIED_QUIET_MS.
 */
import type { ConsentAnswer, ViewerPermissions } from '../../protocol/ipc.js';
import type { DesktopAuditEvent } from '../../protocol/audit-event.js';
import type { Logger } from '../../log/logger.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';
import { errorMessage } from '../../errors/error-text.js';
import { BrokerError } from '../broker-error.js';
import { consentRequired, type AccessPolicy } from '../access-policy.js';
import type { DetectedSession } from '../sessions/session-detector.js';
import type { HelperLink } from '../helper-link.js';

export interface ConsentQuestion {
  /** The OS session whose user is asked. */
  sessionId: number;
  /** Who asks, as the prompt names them. */
  viewer: string;
  /** What they ask for beyond watching. */
  asks: ViewerPermissions;
  timeoutMs: number;
  /** `when-user-present`: the prompter may answer `absent` when the session is idle this long (X11 only). */
  absentAfterIdleMs?: number;
}

export type PromptAnswer = Omit<ConsentAnswer, 'type'>;

/** Shows a consent prompt in a session and resolves with the answer; never rejects. */
export interface ConsentPrompter {
  ask(question: ConsentQuestion, helper: Pick<HelperLink, 'request'>): Promise<PromptAnswer>;
}

/** Shown when the API did not name the viewer (an older API, or none). */
export const UNNAMED_VIEWER = 'a remote viewer';
/** Prompts of one session on screen at once; more are refused `rate_limited`. */
export const MAX_PROMPTS_PER_SESSION = 3;
/** After a denial, the same viewer's next requests for that session are refused without a prompt. */
export const DENIED_QUIET_MS = 10_000;
/** The prompter enforces the timeout; the gate gives up this much later if it did not. */
const PROMPT_GRACE_MS = 5000;

export interface ConsentCheck {
  sessionId: number;
  session: Pick<DetectedSession, 'state' | 'username'>;
  /** The desktop connection that would start (start_desktop's sessionId). */
  desktop: string;
  viewer: string | undefined;
  asks: ViewerPermissions;
  helper: Pick<HelperLink, 'request'>;
  /** Called before the prompt shows, with how long it may take (the API then waits that much longer). */
  onWaiting?: (timeoutMs: number) => void;
}

interface Grant {
  asks: ViewerPermissions;
  /** Desktops started under this grant and still running. */
  running: Set<string>;
  /** When it lapses if no desktop of it runs (timers' clock). */
  expiresAt: number;
}

export interface ConsentGateOptions {
  policy: AccessPolicy;
  prompter: ConsentPrompter;
  log: Pick<Logger, 'info' | 'warn'>;
  timers?: Timers;
  onAudit?: (sessionId: number, event: DesktopAuditEvent) => void;
}

const key = (sessionId: number, viewer: string): string => `${sessionId}\u0000${viewer}`;
const covers = (granted: ViewerPermissions, asks: ViewerPermissions): boolean =>
  (granted.control || !asks.control) && (granted.files || !asks.files);

export class ConsentGate {
  private readonly timers: Timers;
  private readonly grants = new Map<string, Grant>();
  /** Desktop id → the grant key it runs under. */
  private readonly desktops = new Map<string, string>();
  private readonly pending = new Map<string, { asks: ViewerPermissions; answer: Promise<PromptAnswer> }>();
  private readonly promptsPerSession = new Map<number, number>();
  private readonly deniedUntil = new Map<string, number>();

  constructor(private readonly opts: ConsentGateOptions) {
    this.timers = opts.timers ?? realTimers;
  }

  /** Resolves when the desktop may start; throws a BrokerError (`consent_denied`, …) when it may not. */
  async admit(check: ConsentCheck): Promise<void> {
    const { policy, log } = this.opts;
    if (!consentRequired(policy, check.session, check.asks)) return;
    const viewer = check.viewer ?? UNNAMED_VIEWER;
    // An unnamed viewer cannot be told apart from another: nothing is remembered for it.
    const k = check.viewer === undefined ? undefined : key(check.sessionId, check.viewer);
    const now = this.timers.now();
    this.prune(now);
    if (k !== undefined && this.heldGrant(k, check.asks, now)) {
      this.attach(k, check.desktop);
      log.info({ sessionId: check.sessionId, desktop: check.desktop }, 'consent held from an earlier answer');
      return;
    }
    if (k !== undefined && (this.deniedUntil.get(k) ?? 0) > now) {
      throw new BrokerError('consent_denied', `the user at the machine refused ${viewer} a moment ago`);
    }

    const readsIdle = policy.consent === 'when-user-present' && policy.absentAfterIdleMs > 0;
    const question = {
      sessionId: check.sessionId,
      viewer,
      asks: check.asks,
      ...(readsIdle ? { absentAfterIdleMs: policy.absentAfterIdleMs } : {}),
    };
    const answer = await this.ask(k, question, check);
    const outcome = answer.outcome;
    if (outcome === 'absent' && readsIdle) {
      // Nobody at the session: unattended access, as for a locked or logged-off session. No prompt was
      // shown, so there is no consent to audit or to hold.
      log.info(
        { sessionId: check.sessionId, desktop: check.desktop, reason: answer.reason },
        'nobody at the session: not asked',
      );
      return;
    }
    if (outcome === 'unavailable' || outcome === 'absent') {
      log.warn({ sessionId: check.sessionId, reason: answer.reason }, 'consent prompt could not be shown');
      throw new BrokerError(
        'helper_unavailable',
        `consent is required but no prompt could be shown in session ${check.sessionId}: ${answer.reason ?? 'unknown'}`,
      );
    }
    log.info({ sessionId: check.sessionId, desktop: check.desktop, outcome }, 'consent answered');
    this.opts.onAudit?.(check.sessionId, { kind: 'consent', desktop: check.desktop, outcome });
    const go = outcome === 'accepted' || (outcome === 'timed_out' && policy.onConsentTimeout === 'accept');
    if (!go) {
      if (k !== undefined) this.deniedUntil.set(k, this.timers.now() + DENIED_QUIET_MS);
      if (outcome === 'timed_out') {
        throw new BrokerError(
          'consent_timeout',
          `nobody at the machine answered the consent prompt within ${Math.round(policy.consentTimeoutMs / 1000)} s`,
        );
      }
      throw new BrokerError('consent_denied', 'the user at the machine refused the connection');
    }
    if (k !== undefined) {
      const grant = this.grants.get(k);
      this.grants.set(k, {
        asks: check.asks,
        running: grant?.running ?? new Set(),
        expiresAt: this.timers.now() + policy.consentHoldMs,
      });
      this.attach(k, check.desktop);
    }
  }

  /**
   * The desktop ended (stopped, closed by its helper, or never started after all): a grant with no
   * desktop left lapses `consentHoldMs` from now.
   */
  desktopEnded(desktop: string): void {
    const k = this.desktops.get(desktop);
    if (k === undefined) return;
    this.desktops.delete(desktop);
    const grant = this.grants.get(k);
    if (!grant) return;
    grant.running.delete(desktop);
    grant.expiresAt = this.timers.now() + this.opts.policy.consentHoldMs;
  }

  /**
   * The helper cut the desktop by the session policy (`session_cut`): the acceptance it ran under
   * ends with it, so a reconnect asks again rather than starting the limits afresh unasked.
   */
  desktopCut(desktop: string): void {
    const k = this.desktops.get(desktop);
    if (k === undefined) return;
    const grant = this.grants.get(k);
    this.grants.delete(k);
    for (const d of grant?.running ?? []) this.desktops.delete(d);
    this.desktops.delete(desktop);
  }

  /** The session ended (its user logged off): nothing answered there holds any more. */
  forgetSession(sessionId: number): void {
    const prefix = `${sessionId}\u0000`;
    for (const k of [...this.grants.keys()]) if (k.startsWith(prefix)) this.grants.delete(k);
    for (const k of [...this.deniedUntil.keys()]) if (k.startsWith(prefix)) this.deniedUntil.delete(k);
    for (const [d, k] of [...this.desktops]) if (k.startsWith(prefix)) this.desktops.delete(d);
  }

  /** Drops lapsed grants and denials, so the maps hold only what can still matter. */
  private prune(now: number): void {
    for (const [k, until] of this.deniedUntil) if (until <= now) this.deniedUntil.delete(k);
    for (const [k, grant] of this.grants) {
      if (grant.running.size === 0 && grant.expiresAt <= now) this.grants.delete(k);
    }
  }

  private heldGrant(k: string, asks: ViewerPermissions, now: number): boolean {
    const grant = this.grants.get(k);
    if (!grant) return false;
    if (grant.running.size === 0 && grant.expiresAt <= now) {
      this.grants.delete(k);
      return false;
    }
    return covers(grant.asks, asks);
  }

  private attach(k: string, desktop: string): void {
    this.grants.get(k)?.running.add(desktop);
    this.desktops.set(desktop, k);
  }

  /** One prompt per viewer and session: a second request for no more than the first waits for it. */
  private async ask(
    k: string | undefined,
    q: Omit<ConsentQuestion, 'timeoutMs'>,
    check: ConsentCheck,
  ): Promise<PromptAnswer> {
    const same = k === undefined ? undefined : this.pending.get(k);
    if (same && covers(same.asks, q.asks)) {
      check.onWaiting?.(this.opts.policy.consentTimeoutMs);
      return same.answer;
    }
    const shown = this.promptsPerSession.get(q.sessionId) ?? 0;
    if (shown >= MAX_PROMPTS_PER_SESSION) {
      throw new BrokerError(
        'rate_limited',
        `${shown} consent prompts are already waiting for an answer in session ${q.sessionId}`,
        { retryAfterMs: this.opts.policy.consentTimeoutMs },
      );
    }
    this.promptsPerSession.set(q.sessionId, shown + 1);
    const timeoutMs = this.opts.policy.consentTimeoutMs;
    check.onWaiting?.(timeoutMs);
    const answer = this.prompt({ ...q, timeoutMs }, check.helper);
    if (k !== undefined) this.pending.set(k, { asks: q.asks, answer });
    try {
      return await answer;
    } finally {
      if (k !== undefined && this.pending.get(k)?.answer === answer) this.pending.delete(k);
      const left = (this.promptsPerSession.get(q.sessionId) ?? 1) - 1;
      if (left > 0) this.promptsPerSession.set(q.sessionId, left);
      else this.promptsPerSession.delete(q.sessionId);
    }
  }

  /** The prompter's answer, or `timed_out` if it overran its own timeout by PROMPT_GRACE_MS. */
  private prompt(q: ConsentQuestion, helper: Pick<HelperLink, 'request'>): Promise<PromptAnswer> {
    let timer: TimerHandle | undefined;
    const late = new Promise<PromptAnswer>((resolve) => {
      timer = this.timers.setTimeout(() => {
        this.opts.log.warn({ sessionId: q.sessionId }, 'consent prompt overran its timeout');
        resolve({ outcome: 'timed_out' });
      }, q.timeoutMs + PROMPT_GRACE_MS);
    });
    const asked = this.opts.prompter
      .ask(q, helper)
      .catch((err: unknown): PromptAnswer => ({ outcome: 'unavailable', reason: errorMessage(err) }));
    return Promise.race([asked, late]).finally(() => this.timers.clearTimeout(timer));
  }
}
