import type {
  AddPeer,
  AddPeerResult,
  SessionInfo,
  StartDesktop,
  StartDesktopResult,
  StopDesktopResult,
} from '../protocol/api.js';
import { AuditEventBudget, type DesktopAuditEvent } from '../protocol/audit-event.js';
import type { HelperToService, ServiceToHelper } from '../protocol/ipc.js';
import { RequestError } from '../ipc/errors.js';
import type { Logger } from '../log/logger.js';
import { type OpenHelperLink } from './helper-link.js';
import { DEFAULT_POLICY, HelperSupervisor, type SupervisorPolicy } from './helper-supervisor.js';
import { pickDefaultTarget } from './default-target.js';
import type { DetectedSession, SessionDetector, SessionEvent } from './sessions/session-detector.js';
import type { HelperSpawner } from './spawn/helper-spawner.js';
import { realTimers, type Timers } from '../time/timers.js';
import { BrokerError, toBrokerError } from './broker-error.js';
import { LogThrottle } from '../log/log-throttle.js';
import { noSecureAttention, SecureAttentionRelay, type SecureAttentionSender } from './secure-attention.js';
import { FULL_CONTROL, type DesktopLimits } from '../protocol/ipc.js';
import type { AccessPolicy } from './access-policy.js';
import { ConsentGate, type ConsentPrompter } from './consent/consent-gate.js';

/**
 * What a helper's forwarded log lines may cost the service's log: a broken or hostile helper under
 * the channel's rate limit could otherwise write 2000 lines a second. Beyond this, one summary line
 * per window says how many were held back.
 */
const HELPER_LOG_LINES = 50;
const HELPER_LOG_WINDOW_MS = 10_000;

export interface BrokerOptions {
  detector: SessionDetector;
  spawner: HelperSpawner;
  openLink: OpenHelperLink;
  log: Logger;
  policy?: Partial<SupervisorPolicy>;
  /** Spawn a helper as soon as a user logs on (and for sessions already there at start). */
  spawnOnLogon?: boolean;
  /** Ordered usernames whose session is the default target when `targetSessionId` is omitted. */
  affinity?: string[];
  /** How long a helper may take to answer desktop_start / desktop_stop. */
  requestTimeoutMs?: number;
  /** The supervisors' clock and timers, and their backoff jitter (defaults: the real ones). */
  timers?: Timers;
  random?: () => number;
  /** Sends Ctrl+Alt+Del into a session when its helper asks (default: none, answered `unsupported`). */
  secureAttention?: SecureAttentionSender;
  /**
   * A helper's audit event (validated by the pipe), with the session the service spawned that helper
   * into; at most AUDIT_EVENTS_PER_WINDOW per session and window are passed on.
   */
  onAudit?: (sessionId: number, event: DesktopAuditEvent) => void;
  /** Consent and desktop limits (access-policy.ts); default: unattended, no limits. */
  access?: AccessPolicy;
  /** `audio.enabled: false`: desktops carry no sound (desktop_start.audio). Default: allowed. */
  audio?: { enabled: boolean };
  /** Shows consent prompts in a session; needed when `access.consent` is not `never`. */
  consentPrompter?: ConsentPrompter;
}

/** What a caller of startDesktop may hear while it waits. */
export interface StartDesktopHooks {
  /** The request waits for the person at the machine for at most this long (a consent prompt). */
  onWaiting?: (timeoutMs: number) => void;
}

/**
 * The session broker: one helper per session, spawned on logon (configurable), on demand, or into the
 * console session for the login screen; routes start_desktop/stop_desktop to the right helper and
 * answers list_sessions from detector and helper state together.
 */
export class SessionBroker {
  private sessions = new Map<number, DetectedSession>();
  private supervisors = new Map<number, HelperSupervisor>();
  /** Desktop connection id → OS session whose helper serves it. */
  private desktops = new Map<string, number>();
  /** Per session: how many audit events its helper may still pass on this window. */
  private readonly auditBudgets = new Map<number, AuditEventBudget>();
  private readonly policy: SupervisorPolicy;
  private stopping = false;
  /** Per session, across its helper's respawns, so a crash loop cannot reset the budget. */
  private readonly helperLogs = new Map<number, LogThrottle>();
  private readonly secureAttention: SecureAttentionRelay;
  private readonly consent: ConsentGate | undefined;
  private readonly limits: DesktopLimits | undefined;
  /** `access.blockLocalInput`: asked of the helper for viewers allowed to control. */
  private readonly blockLocalInput: boolean;

  constructor(private readonly opts: BrokerOptions) {
    this.policy = { ...DEFAULT_POLICY, ...opts.policy };
    const access = opts.access;
    if (access && access.consent !== 'never') {
      if (!opts.consentPrompter)
        throw new Error(`access.consent is '${access.consent}' but no prompter was given`);
      this.consent = new ConsentGate({
        policy: access,
        prompter: opts.consentPrompter,
        log: opts.log,
        ...(opts.timers ? { timers: opts.timers } : {}),
        // The service's own word, not a helper's: passed on without the helpers' budget.
        onAudit: (sessionId, event) => opts.onAudit?.(sessionId, event),
      });
    }
    if (access && (access.maxSessionMs > 0 || access.idleTimeoutMs > 0)) {
      this.limits = {
        ...(access.maxSessionMs > 0 ? { maxSessionMs: access.maxSessionMs } : {}),
        ...(access.idleTimeoutMs > 0 ? { idleMs: access.idleTimeoutMs } : {}),
        warnMs: access.limitWarningMs,
      };
    }
    this.blockLocalInput = access?.blockLocalInput === true;
    this.secureAttention = new SecureAttentionRelay({
      sender: opts.secureAttention ?? noSecureAttention,
      log: opts.log,
      ...(opts.timers ? { timers: opts.timers } : {}),
    });
  }

  async start(): Promise<void> {
    await this.opts.detector.start((e) => this.onSessionEvent(e));
    for (const s of await this.opts.detector.list()) this.sessions.set(s.sessionId, s);
    for (const s of this.sessions.values()) this.considerAutoSpawn(s);
    this.opts.log.info({ sessions: [...this.sessions.keys()] }, 'broker started');
  }

  /** Stops every helper (SIGTERM, then SIGKILL after the grace period) and the detector. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.opts.detector.stop();
    await Promise.all([...this.supervisors.values()].map((s) => s.stop('service stopping')));
    this.desktops.clear();
    for (const throttle of this.helperLogs.values()) throttle.close();
    this.helperLogs.clear();
  }

  listSessions(): SessionInfo[] {
    return [...this.sessions.values()]
      .sort((a, b) => a.sessionId - b.sessionId)
      .map((s) => {
        const sup = this.supervisors.get(s.sessionId);
        const info: SessionInfo = {
          sessionId: s.sessionId,
          username: s.username,
          state: s.state,
          type: s.type,
          helperConnected: sup?.state === 'ready',
          helperState: sup?.state ?? 'none',
        };
        if (sup?.lastError && sup.state !== 'ready') info.lastError = sup.lastError;
        return info;
      });
  }

  /** The helper process of a session, for status output and tests. */
  helperPid(sessionId: number): number | undefined {
    return this.supervisors.get(sessionId)?.pid;
  }

  async startDesktop(req: StartDesktop, hooks: StartDesktopHooks = {}): Promise<StartDesktopResult> {
    if (this.stopping) throw new BrokerError('helper_unavailable', 'service is stopping');
    const target = req.targetSessionId ?? this.defaultTarget();
    if (target === undefined)
      throw new BrokerError('no_such_session', 'no session to connect to on this machine');
    if (!this.sessions.has(target)) await this.refreshSessions();
    if (!this.sessions.has(target))
      throw new BrokerError('no_such_session', `no session ${target} on this machine`);
    if (this.desktops.has(req.sessionId)) await this.stopDesktop({ sessionId: req.sessionId });

    const sup = this.supervisorFor(target);
    const link = await sup.ready(this.policy.readyTimeoutMs);
    const caps = sup.capabilities;
    if (!caps?.canCapture) {
      throw new BrokerError(
        'helper_unavailable',
        `session ${target} cannot be captured: ${caps?.reason ?? 'unknown'}`,
      );
    }
    const displayIndex = req.displayIndex ?? 0;
    if (caps.displays.length > 0 && displayIndex >= caps.displays.length) {
      throw new BrokerError(
        'bad_request',
        `displayIndex ${displayIndex} out of range (session has ${caps.displays.length})`,
      );
    }
    // Before any peer exists: the person at the machine says yes, or nothing starts.
    const session = this.sessions.get(target);
    if (this.consent) {
      // Fail closed: a session that ended while its helper got ready cannot be asked.
      if (!session) throw new BrokerError('no_such_session', `session ${target} ended`);
      await this.consent.admit({
        sessionId: target,
        session,
        desktop: req.sessionId,
        viewer: req.viewer?.name,
        asks: req.permissions ?? FULL_CONTROL,
        helper: link,
        ...(hooks.onWaiting ? { onWaiting: hooks.onWaiting } : {}),
      });
    }
    let reply: HelperToService;
    try {
      reply = await this.request(link, {
        type: 'desktop_start',
        sessionId: req.sessionId,
        ...(req.offer !== undefined ? { offer: req.offer } : {}),
        ...(req.relay ? { relay: req.relay } : {}),
        iceServers: req.iceServers,
        displayIndex,
        ...(req.viewer ? { viewer: req.viewer } : {}),
        ...(req.permissions ? { permissions: req.permissions } : {}),
        ...(this.limits ? { limits: this.limits } : {}),
        ...(this.opts.audio?.enabled === false ? { audio: false as const } : {}),
        ...(this.blockLocalInput && (req.permissions ?? FULL_CONTROL).control
          ? { blockLocalInput: true }
          : {}),
      });
      if (reply.type !== 'desktop_started' || reply.sessionId !== req.sessionId) {
        throw new BrokerError('internal', `helper answered desktop_start with ${reply.type}`);
      }
    } catch (err) {
      this.consent?.desktopEnded(req.sessionId);
      throw err;
    }
    this.desktops.set(req.sessionId, target);
    this.opts.log.info({ desktop: req.sessionId, sessionId: target, displayIndex }, 'desktop started');
    if ((reply.answer === undefined) !== (req.relay !== undefined)) {
      throw new BrokerError('internal', 'helper answered desktop_start without the answer it owes');
    }
    return reply.answer !== undefined
      ? { sessionId: req.sessionId, answer: reply.answer }
      : { sessionId: req.sessionId, transport: 'websocket' };
  }

  /**
   * A second peer for a desktop this service started (the API's `add_peer`): relayed to the helper
   * serving it, which checks that the desktop is this viewer's. No consent is asked and nothing is
   * counted: the desktop was admitted when it started, and it is the same desktop moving.
   */
  async addPeer(req: AddPeer): Promise<AddPeerResult> {
    if (this.stopping) throw new BrokerError('helper_unavailable', 'service is stopping');
    const target = this.desktops.get(req.sessionId);
    const sup = target === undefined ? undefined : this.supervisors.get(target);
    if (!sup || sup.state !== 'ready') {
      throw new BrokerError('no_such_desktop', `no desktop '${req.sessionId}' runs on this machine`);
    }
    const link = await sup.ready(this.policy.readyTimeoutMs);
    const reply = await this.request(link, {
      type: 'desktop_add_peer',
      sessionId: req.sessionId,
      offer: req.offer,
      iceServers: req.iceServers,
      viewer: req.viewer,
    });
    if (reply.type !== 'desktop_started' || reply.sessionId !== req.sessionId || reply.answer === undefined) {
      throw new BrokerError('internal', `helper answered desktop_add_peer with ${reply.type}`);
    }
    this.opts.log.info({ desktop: req.sessionId, sessionId: target }, 'desktop peer added');
    return { sessionId: req.sessionId, answer: reply.answer };
  }

  async stopDesktop(req: { sessionId: string }): Promise<StopDesktopResult> {
    const target = this.desktops.get(req.sessionId);
    if (target === undefined) return { sessionId: req.sessionId, stopped: false };
    this.desktops.delete(req.sessionId);
    this.consent?.desktopEnded(req.sessionId);
    const sup = this.supervisors.get(target);
    if (sup?.state !== 'ready') return { sessionId: req.sessionId, stopped: true };
    const link = await sup.ready(this.policy.readyTimeoutMs);
    await this.request(link, { type: 'desktop_stop', sessionId: req.sessionId });
    this.opts.log.info({ desktop: req.sessionId, sessionId: target }, 'desktop stopped');
    return { sessionId: req.sessionId, stopped: true };
  }

  /** The session used when start_desktop names none: affinity list, then console/active (as Breeze). */
  defaultTarget(): number | undefined {
    return pickDefaultTarget([...this.sessions.values()], this.opts.affinity ?? []);
  }

  private async request(
    link: Awaited<ReturnType<HelperSupervisor['ready']>>,
    body: Parameters<typeof link.request>[0],
  ): Promise<HelperToService> {
    try {
      return await link.request(body, this.opts.requestTimeoutMs ?? 20_000);
    } catch (err) {
      throw toBrokerError(err);
    }
  }

  private supervisorFor(sessionId: number): HelperSupervisor {
    let sup = this.supervisors.get(sessionId);
    const session = this.sessions.get(sessionId);
    if (!sup && session) {
      sup = new HelperSupervisor(session, {
        spawner: this.opts.spawner,
        openLink: this.opts.openLink,
        policy: this.policy,
        log: this.opts.log,
        onMessage: (body) => this.onHelperMessage(sessionId, body),
        onRequest: (body) => this.onHelperRequest(sessionId, body),
        onLost: () => this.forgetDesktopsOf(sessionId),
        timers: this.opts.timers,
        random: this.opts.random,
      });
      this.supervisors.set(sessionId, sup);
    }
    if (!sup) throw new BrokerError('no_such_session', `no session ${sessionId}`);
    return sup;
  }

  private onHelperMessage(sessionId: number, body: HelperToService): void {
    if (body.type === 'log') {
      let log = this.helperLogs.get(sessionId);
      if (!log) {
        log = new LogThrottle(this.opts.log.child({ sessionId, from: 'helper' }), {
          max: HELPER_LOG_LINES,
          windowMs: HELPER_LOG_WINDOW_MS,
          ...(this.opts.timers ? { timers: this.opts.timers } : {}),
        });
        this.helperLogs.set(sessionId, log);
      }
      log[body.level]({ ...body.fields }, body.msg);
    } else if (body.type === 'audit') {
      let budget = this.auditBudgets.get(sessionId);
      if (!budget) {
        const timers = this.opts.timers ?? realTimers;
        budget = new AuditEventBudget(() => timers.now());
        this.auditBudgets.set(sessionId, budget);
      }
      if (!budget.admit()) {
        // One line per window at most: the first refusal of each.
        if (budget.droppedThisWindow === 1) {
          this.opts.log.warn(
            { sessionId },
            'helper audit events over the budget: dropping the rest of this minute',
          );
        }
        return;
      }
      if (body.event.kind === 'session_cut') this.consent?.desktopCut(body.event.desktop);
      this.opts.onAudit?.(sessionId, body.event);
    } else if (body.type === 'event') {
      this.opts.log.info(
        { sessionId, event: body.name, desktop: body.sessionId, detail: body.detail },
        'helper event',
      );
      if (body.name === 'desktop_closed' && body.sessionId) {
        this.desktops.delete(body.sessionId);
        this.consent?.desktopEnded(body.sessionId);
      }
    }
  }

  /**
   * A helper's request. The session is the one this helper was spawned into, never one the helper
   * names: a helper can ask for Ctrl+Alt+Del in its own session only.
   */
  private async onHelperRequest(sessionId: number, body: HelperToService): Promise<ServiceToHelper> {
    if (body.type === 'secure_attention') return this.secureAttention.request(sessionId);
    throw new RequestError('bad_request', `${body.type} is not a request`);
  }

  private forgetDesktopsOf(sessionId: number): void {
    for (const [id, s] of this.desktops) {
      if (s !== sessionId) continue;
      this.desktops.delete(id);
      this.consent?.desktopEnded(id);
    }
  }

  private considerAutoSpawn(s: DetectedSession): void {
    const loginScreen = s.console && s.username === '';
    if (this.opts.spawnOnLogon !== false || loginScreen) this.supervisorFor(s.sessionId).ensureRunning();
  }

  private onSessionEvent(e: SessionEvent): void {
    if (this.stopping) return;
    this.opts.log.info({ event: e.kind, sessionId: e.sessionId }, 'session event');
    if (e.kind === 'logoff') {
      this.sessions.delete(e.sessionId);
      const sup = this.supervisors.get(e.sessionId);
      this.supervisors.delete(e.sessionId);
      this.forgetDesktopsOf(e.sessionId);
      this.helperLogs.get(e.sessionId)?.close();
      this.helperLogs.delete(e.sessionId);
      this.secureAttention.forget(e.sessionId);
      this.consent?.forgetSession(e.sessionId);
      void sup?.stop('session ended');
      return;
    }
    if (e.session) {
      this.sessions.set(e.sessionId, e.session);
      this.supervisors.get(e.sessionId)?.updateSession(e.session);
    }
    const sup = this.supervisors.get(e.sessionId);
    if (sup?.state === 'failed') sup.retry();
    else if (e.kind === 'logon' && e.session) this.considerAutoSpawn(e.session);
  }

  private async refreshSessions(): Promise<void> {
    for (const s of await this.opts.detector.list()) {
      this.sessions.set(s.sessionId, s);
      this.supervisors.get(s.sessionId)?.updateSession(s);
    }
  }
}
