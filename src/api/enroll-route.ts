/**
 * `POST /api/enroll {key, hostname, os, arch, agentVersion}` → `201 {deviceId, deviceToken, agentUrl,
 * name}`: a machine registers itself with an enrollment key. It is the one route besides login that a
 * client without a token may call, so it is rate-limited per client address (src/api/client-address.ts)
 * with two token buckets:
 * - every request takes from `attempts` (default 60 at once, then one a second): room for a site
 *   deploying hundreds of machines behind one NAT address, whose agents wait out the Retry-After;
 * - every refused request (a bad body, a refused key) also takes from `failures` (default 10, then one
 *   a minute), and an address with none left is refused before its key is even looked at. That bounds
 *   the audit lines a stranger can cause, and the store reads.
 * A limited request is answered `429 rate_limited` with `Retry-After` (whole seconds, rounded up).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.js';
import { enrollRequest } from '../protocol/enroll.js';
import type { AuditSink } from './audit-log.js';
import { EnrollKeyError } from './enroll-keys.js';
import { HttpError, readJsonBody, sendJson, validateBody } from './http-json.js';
import { AddressRateLimiter, type RateLimit } from './rate-limit.js';
import type { ApiStore } from './store.js';

export interface EnrollRateLimits {
  attempts: RateLimit;
  failures: RateLimit;
}

export const DEFAULT_ENROLL_RATE_LIMITS: EnrollRateLimits = {
  attempts: { burst: 60, refillMs: 1000 },
  failures: { burst: 10, refillMs: 60_000 },
};

/** An enrollment body is five short strings: a few hundred bytes. */
const MAX_ENROLL_BODY_BYTES = 4096;

export interface EnrollEndpointOptions {
  store: ApiStore;
  audit: AuditSink;
  log: Logger;
  /** Whether agents reach this server over TLS (wss://) when no trusted proxy says otherwise. */
  https: boolean;
  /** The agent URL to answer when the request's Host header is unusable. */
  defaultAgentUrl: string;
  limits?: EnrollRateLimits;
  /** Monotonic milliseconds for the rate limiter. */
  monotonicNow: () => number;
  /** Wall-clock milliseconds (epoch) for key expiry. */
  wallNow: () => number;
}

export class EnrollEndpoint {
  private readonly attempts: AddressRateLimiter;
  private readonly failures: AddressRateLimiter;

  constructor(private readonly o: EnrollEndpointOptions) {
    const limits = o.limits ?? DEFAULT_ENROLL_RATE_LIMITS;
    this.attempts = new AddressRateLimiter(limits.attempts, o.monotonicNow);
    this.failures = new AddressRateLimiter(limits.failures, o.monotonicNow);
  }

  /** `remote` is the client's address (behind a trusted proxy, the one it vouches for). */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    remote: string,
    fromTrustedProxy: boolean,
  ): Promise<void> {
    const wait = Math.max(this.attempts.waitMs(remote), this.failures.waitMs(remote));
    if (wait > 0) {
      // Not audited: a limited client could otherwise write the audit log as fast as it can send.
      this.o.log.debug({ remote, retryAfterMs: wait }, 'enrollment rate-limited');
      throw new HttpError(
        429,
        'rate_limited',
        'too many enrollment attempts from this address; try again later',
        undefined,
        { 'retry-after': String(Math.ceil(wait / 1000)) },
      );
    }
    this.attempts.take(remote);
    try {
      const body = validateBody(enrollRequest, await readJsonBody(req, MAX_ENROLL_BODY_BYTES));
      const { key, ...machine } = body;
      const { device, token, keyId } = await this.o.store.enrollDevice(key, machine, this.o.wallNow());
      this.o.audit.record({
        viewer: null,
        device: device.id,
        action: 'enroll',
        ok: true,
        remote,
        enrollKey: keyId,
        name: device.name,
      });
      this.o.log.info({ deviceId: device.id, name: device.name, keyId, remote }, 'device enrolled');
      sendJson(res, 201, {
        deviceId: device.id,
        deviceToken: token,
        agentUrl: this.agentUrl(req, fromTrustedProxy),
        name: device.name,
      });
    } catch (err) {
      const refused = err instanceof EnrollKeyError ? new HttpError(401, err.code, err.message) : err;
      if (refused instanceof HttpError && refused.status < 500) {
        this.failures.take(remote);
        this.o.audit.record({
          viewer: null,
          device: null,
          action: 'enroll',
          ok: false,
          code: refused.code,
          remote,
          ...(err instanceof EnrollKeyError && err.keyId ? { enrollKey: err.keyId } : {}),
        });
      }
      throw refused;
    }
  }

  /**
   * Where this agent should connect, as the request reached us: its Host, and wss:// when served over
   * TLS (or when a trusted proxy says the client used https). Behind a proxy that rewrites paths this
   * cannot be known here, which is why `porthole service enroll` derives its URL from --server.
   */
  private agentUrl(req: IncomingMessage, fromTrustedProxy: boolean): string {
    const host = req.headers.host;
    if (!host || !/^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/.test(host)) {
      return this.o.defaultAgentUrl;
    }
    const proto = fromTrustedProxy ? req.headers['x-forwarded-proto'] : undefined;
    const tls = typeof proto === 'string' ? proto.split(',')[0]?.trim() === 'https' : this.o.https;
    return `${tls ? 'wss' : 'ws'}://${host}/api/agent`;
  }
}
