import { randomBytes } from 'node:crypto';
import type { HelperState } from '../protocol/api.js';
import type { Capabilities, HelperToService, ServiceToHelper } from '../protocol/ipc.js';
import { RequestError } from '../ipc/errors.js';
import type { Logger } from '../log/logger.js';
import { Backoff, FailureWindow } from './backoff.js';
import { type HelperLink, type OpenHelperLink } from './helper-link.js';
import type { DetectedSession } from './sessions/session-detector.js';
import type { HelperSpawner, SpawnedHelper } from './spawn/helper-spawner.js';
import { realTimers, type TimerHandle, type Timers } from '../time/timers.js';
import { errorMessage } from '../errors/error-text.js';
import { BrokerError } from './broker-error.js';

export interface SupervisorPolicy {
  /** Respawn cap: this many failures inside `failureWindowMs` marks the helper failed. */
  maxFailures: number;
  failureWindowMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Spawn → handshake → capabilities must finish within this. */
  readyTimeoutMs: number;
  /** After SIGTERM, wait this long before SIGKILL. */
  stopGraceMs: number;
  /**
   * A helper must stay ready this long before its backoff starts again from the base, so that one
   * that crashes right after it is ready backs off like any other crash loop.
   */
  stableAfterMs: number;
}

export const DEFAULT_POLICY: SupervisorPolicy = {
  maxFailures: 5,
  failureWindowMs: 5 * 60_000,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
  readyTimeoutMs: 20_000,
  stopGraceMs: 3_000,
  stableAfterMs: 60_000,
};

export interface SupervisorDeps {
  spawner: HelperSpawner;
  openLink: OpenHelperLink;
  policy: SupervisorPolicy;
  log: Logger;
  /** Called on every state change, and for each message from the helper. */
  onChange?: () => void;
  onMessage?: (body: HelperToService) => void;
  /** Answers the ready helper's requests; without it every request is answered `bad_request`. */
  onRequest?: (body: HelperToService) => Promise<ServiceToHelper>;
  /** Called when a ready helper goes away (its desktops are gone with it). */
  onLost?: () => void;
  /** Backoff, deadlines, the failure window and the kill grace run on these (default: the real ones). */
  timers?: Timers;
  /** The backoff's jitter, in [0, 1) (default Math.random). */
  random?: () => number;
}

/**
 * Keeps one helper alive for one session: none → starting → ready, and on exit back to starting after
 * a jittered backoff, until the failure cap marks it failed. A failed helper is retried only when
 * `retry()` is called (the next session event or request). See design/ARCHITECTURE.md.
 */
export class HelperSupervisor {
  state: HelperState = 'none';
  lastError: string | undefined;
  capabilities: Capabilities | undefined;
  private link: HelperLink | undefined;
  private helper: SpawnedHelper | undefined;
  private generation = 0;
  private wanted = false;
  /** Why the current attempt failed, when known before the process exits (e.g. a bad handshake). */
  private attemptError: string | undefined;
  /** Why the current helper's channel closed, when it closed before the process exited. */
  private channelClosed: string | undefined;
  private respawnTimer: TimerHandle | undefined;
  private stableTimer: TimerHandle | undefined;
  /** The stop under way for each helper process: there is one stop path, and it runs once. */
  private readonly stopping = new WeakMap<SpawnedHelper, Promise<void>>();
  private waiters: { resolve: (l: HelperLink) => void; reject: (e: Error) => void }[] = [];
  private readonly failures: FailureWindow;
  private readonly backoff: Backoff;
  private readonly timers: Timers;

  constructor(
    private session: DetectedSession,
    private readonly deps: SupervisorDeps,
  ) {
    const timers = (this.timers = deps.timers ?? realTimers);
    this.failures = new FailureWindow(deps.policy.maxFailures, deps.policy.failureWindowMs, () =>
      timers.now(),
    );
    this.backoff = new Backoff({
      baseMs: deps.policy.backoffBaseMs,
      maxMs: deps.policy.backoffMaxMs,
      random: deps.random,
    });
  }

  get sessionId(): number {
    return this.session.sessionId;
  }

  get pid(): number | undefined {
    return this.helper?.pid;
  }

  updateSession(session: DetectedSession): void {
    this.session = session;
  }

  /** Wants a helper: starts one unless one is running, starting or failed. */
  ensureRunning(): void {
    this.wanted = true;
    if (this.state === 'none') this.spawnNow();
  }

  /** A session event or request: a failed helper gets a fresh round of attempts. */
  retry(): void {
    this.wanted = true;
    if (this.state !== 'failed') return this.ensureRunning();
    this.failures.clear();
    this.backoff.reset();
    this.spawnNow();
  }

  /** Resolves with the helper's link once it has reported capabilities. */
  ready(timeoutMs: number): Promise<HelperLink> {
    if (this.state === 'ready' && this.link) return Promise.resolve(this.link);
    if (this.state === 'failed') this.retry();
    else this.ensureRunning();
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (l: HelperLink) => {
          this.timers.clearTimeout(timer);
          resolve(l);
        },
        reject: (e: Error) => {
          this.timers.clearTimeout(timer);
          reject(e);
        },
      };
      const timer = this.timers.setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new BrokerError('timeout', `helper for session ${this.sessionId} not ready after ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Stops the helper for good (session gone or service stopping); resolves when it has exited. */
  async stop(reason: string): Promise<void> {
    this.wanted = false;
    this.timers.clearTimeout(this.respawnTimer);
    this.timers.clearTimeout(this.stableTimer);
    this.rejectWaiters(new BrokerError('helper_unavailable', `helper stopped: ${reason}`));
    const helper = this.helper;
    if (!helper) {
      // A spawn still in flight belongs to an attempt that is over: bringUp() kills what it returns.
      this.generation += 1;
      return this.setState('none');
    }
    await this.terminate(helper, reason);
  }

  /**
   * The one way a running helper is stopped: the shutdown message while the link is up, SIGTERM, and
   * SIGKILL once the grace period has passed. Asked again for the same process (the channel closing
   * because of the stop, a session logoff during a respawn), it returns the stop already under way:
   * a second SIGTERM would cut the helper's own teardown short.
   */
  private terminate(helper: SpawnedHelper, reason: string): Promise<void> {
    const under = this.stopping.get(helper);
    if (under) return under;
    try {
      if (helper === this.helper) this.link?.send({ type: 'shutdown', reason });
    } catch {
      // the link may already be closed; the signal below still stops the helper
    }
    helper.kill(false);
    const killTimer = this.timers.setTimeout(() => helper.kill(true), this.deps.policy.stopGraceMs);
    const done = helper.exited.then(() => this.timers.clearTimeout(killTimer));
    this.stopping.set(helper, done);
    return done;
  }

  private spawnNow(): void {
    this.timers.clearTimeout(this.respawnTimer);
    this.respawnTimer = undefined;
    const gen = ++this.generation;
    this.capabilities = undefined;
    this.attemptError = undefined;
    this.channelClosed = undefined;
    this.setState('starting');
    void this.bringUp(gen).catch((err: unknown) => this.onAttemptFailed(gen, err));
  }

  private async bringUp(gen: number): Promise<void> {
    const secret = randomBytes(32);
    const helperId = `s${this.sessionId}-g${gen}-${randomBytes(4).toString('hex')}`;
    const helper = await this.deps.spawner.spawn({ session: this.session, helperId, secret });
    if (gen !== this.generation) return helper.kill(true);
    this.helper = helper;
    const log = this.deps.log.child({ sessionId: this.sessionId, pid: helper.pid });
    log.info({ helperId }, 'helper spawned');
    void helper.exited.then((exit) => this.onExit(gen, `exited with ${exit.signal ?? `code ${exit.code}`}`));

    const deadline = this.timers.setTimeout(() => {
      if (gen === this.generation && this.state === 'starting') {
        this.attemptError = `no capabilities within ${this.deps.policy.readyTimeoutMs} ms`;
        log.warn({ error: this.attemptError }, 'helper not ready; killing it');
        helper.kill(true);
      }
    }, this.deps.policy.readyTimeoutMs);
    try {
      const link = await this.deps.openLink(await helper.channel, helperId, secret);
      if (gen !== this.generation) return link.close();
      this.link = link;
      link.onClose((reason) => {
        if (gen !== this.generation) return;
        log.info({ reason }, 'helper channel closed; stopping the helper');
        // Without its channel the helper can serve nothing: it is not ready from this moment, and it is
        // stopped (SIGKILL after the grace period if it lingers); its exit then leads to the backoff.
        this.channelClosed = reason;
        this.leaveReady();
        void this.terminate(helper, reason);
      });
      link.onMessage((body) => {
        if (gen !== this.generation) return;
        if (body.type === 'capabilities' && this.state === 'starting') {
          this.timers.clearTimeout(deadline);
          this.capabilities = body;
          this.lastError = undefined;
          this.stableTimer = this.timers.setTimeout(
            () => this.backoff.reset(),
            this.deps.policy.stableAfterMs,
          );
          log.info({ canCapture: body.canCapture, displays: body.displays.length }, 'helper ready');
          this.setState('ready');
          for (const w of this.waiters.splice(0)) w.resolve(link);
          return;
        }
        this.deps.onMessage?.(body);
      });
      link.onRequest(async (body) => {
        // Only the current helper, once it is ready, may ask anything of the service.
        if (gen !== this.generation || this.state !== 'ready') {
          throw new RequestError('helper_unavailable', 'this helper is not ready');
        }
        if (!this.deps.onRequest) throw new RequestError('bad_request', `${body.type} is not a request`);
        return this.deps.onRequest(body);
      });
    } catch (err) {
      this.timers.clearTimeout(deadline);
      throw err;
    }
  }

  private onAttemptFailed(gen: number, err: unknown): void {
    if (gen !== this.generation) return;
    this.attemptError = errorMessage(err);
    this.deps.log.warn({ sessionId: this.sessionId, error: this.attemptError }, 'helper start failed');
    if (this.helper) this.helper.kill(true);
    else this.onExit(gen, this.attemptError);
  }

  private onExit(gen: number, why: string): void {
    if (gen !== this.generation) return;
    // The attempt is over: what it still reports (a handshake failing on the closed channel, the
    // link's close) is stale, and must not count as a second failure.
    this.generation += 1;
    this.leaveReady();
    this.helper = undefined;
    if (!this.wanted) return this.setState('none');
    this.lastError =
      this.attemptError ??
      (this.channelClosed === undefined
        ? `helper ${why}`
        : `helper ${why} after its channel closed (${this.channelClosed})`);
    if (this.failures.record()) {
      this.deps.log.error(
        { sessionId: this.sessionId, failures: this.failures.count, lastError: this.lastError },
        'helper failed too often; not respawning until the next session event or request',
      );
      this.setState('failed');
      this.rejectWaiters(new BrokerError('helper_unavailable', `helper failed: ${this.lastError}`));
      return;
    }
    const delay = this.backoff.next();
    this.deps.log.info(
      { sessionId: this.sessionId, delayMs: delay, lastError: this.lastError },
      'respawning helper',
    );
    this.setState('starting');
    this.respawnTimer = this.timers.setTimeout(() => this.spawnNow(), delay);
  }

  /** Forgets the link and capabilities; a helper that was ready is reported lost (its desktops end). */
  private leaveReady(): void {
    this.timers.clearTimeout(this.stableTimer);
    const wasReady = this.state === 'ready';
    this.link?.close();
    this.link = undefined;
    this.capabilities = undefined;
    if (!wasReady) return;
    this.setState(this.wanted ? 'starting' : 'none');
    this.deps.onLost?.();
  }

  private rejectWaiters(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private setState(state: HelperState): void {
    this.state = state;
    this.deps.onChange?.();
  }
}
