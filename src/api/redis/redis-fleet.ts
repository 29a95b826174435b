/**
 * The fleet over Redis (`porthole api serve --redis redis://…`): two connections per instance, one
 * for commands and publishing, one subscribed to this instance's channel and to the revocation
 * channel. Commands fail fast while Redis is unreachable (no offline queue): a relayed command is then
 * answered 503 `routing_unavailable`, agents held here keep working, and ioredis reconnects and
 * re-subscribes by itself.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../../log/logger.js';
import type { Timers } from '../../time/timers.js';
import { errorMessage } from '../../errors/error-text.js';
import { ProtocolError } from '../../protocol/validate.js';
import type { AgentTarget, Fleet, FleetHandlers, Revocation } from './fleet.js';
import { OwnershipRegistry } from './ownership.js';
import { CommandRelay } from './command-relay.js';
import { encodeRevocation, parseRevocation, REVOCATION_CHANNEL } from './revocation-bus.js';
import { OnceGuard } from './once-guard.js';
import { instanceChannel, parseRelayMessage, type RelayMessage } from './relay-messages.js';
import { checkRedisUrl, redactRedisUrl } from './redis-url.js';

/** `porthole:relay-origin:<instance id>` → the instance's `--ws-relay-origin`, renewed while it lives. */
export function relayOriginKey(instanceId: string): string {
  return `porthole:relay-origin:${instanceId}`;
}

export interface RedisFleetOptions {
  url: string;
  log: Logger;
  commandTimeoutMs: number;
  /** The hub's heartbeat: ownership keys live for two of them plus a margin. */
  heartbeatMs: number;
  timers?: Timers;
}

export class RedisFleet implements Fleet {
  readonly kind = 'redis';
  readonly instanceId = randomBytes(6).toString('hex');
  readonly location: string;
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly ownership: OwnershipRegistry;
  private readonly relay: CommandRelay;
  private readonly once: OnceGuard;
  private handlers: FleetHandlers | undefined;
  private relayOriginTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly o: RedisFleetOptions) {
    checkRedisUrl(o.url);
    this.location = redactRedisUrl(o.url);
    const common = {
      lazyConnect: true,
      enableOfflineQueue: false,
      connectTimeout: 5000,
      maxRetriesPerRequest: 1,
      // Reconnect forever, at most every 2 s: Redis coming back brings routing back.
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    };
    this.redis = new Redis(o.url, { ...common, connectionName: `porthole-api-${this.instanceId}` });
    this.sub = new Redis(o.url, { ...common, connectionName: `porthole-api-${this.instanceId}-sub` });
    let lastError = '';
    for (const [conn, role] of [
      [this.redis, 'commands'],
      [this.sub, 'subscriber'],
    ] as const) {
      conn.on('error', (err: Error) => {
        // One line per distinct failure, not one per reconnect attempt.
        if (err.message === lastError) return;
        lastError = err.message;
        o.log.warn({ redis: this.location, role, err: err.message }, 'Redis connection failed');
      });
      conn.on('ready', () => {
        if (lastError) o.log.info({ redis: this.location, role }, 'Redis connection back');
        lastError = '';
      });
    }
    this.ownership = new OwnershipRegistry(this.redis, this.instanceId, 2 * o.heartbeatMs + 5000);
    this.relay = new CommandRelay({
      instanceId: this.instanceId,
      redis: this.redis,
      commandTimeoutMs: o.commandTimeoutMs,
      log: o.log,
      ...(o.timers ? { timers: o.timers } : {}),
      onOwnerGone: (deviceId, owner) => {
        this.ownership.releaseFor(deviceId, owner).catch(() => undefined);
      },
    });
    this.once = new OnceGuard(this.redis);
  }

  async start(handlers: FleetHandlers): Promise<void> {
    this.handlers = handlers;
    this.relay.attach(handlers);
    try {
      await Promise.all([this.redis.connect(), this.sub.connect()]);
      this.sub.on('message', (channel: string, text: string) => this.onMessage(channel, text));
      await this.sub.subscribe(instanceChannel(this.instanceId), REVOCATION_CHANNEL);
    } catch (err) {
      this.redis.disconnect();
      this.sub.disconnect();
      throw new Error(`cannot reach Redis at ${this.location}: ${errorMessage(err)}`, { cause: err });
    }
    this.o.log.info({ redis: this.location, instanceId: this.instanceId }, 'joined the fleet over Redis');
  }

  private onMessage(channel: string, text: string): void {
    const { log } = this.o;
    try {
      if (channel === REVOCATION_CHANNEL) {
        this.handlers?.onRevocation(parseRevocation(text));
        return;
      }
      const msg: RelayMessage = parseRelayMessage(text);
      if (msg.t === 'takeover') void this.onTakeover(msg.deviceId);
      else this.relay.onMessage(msg);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      log.warn({ channel, error: err.message }, 'ignored an invalid message from Redis');
    }
  }

  /** Drops the local connection only if the key really names another instance now (A→B→A races). */
  private async onTakeover(deviceId: string): Promise<void> {
    try {
      const owner = (await this.ownership.owners([deviceId])).get(deviceId);
      if (owner !== this.instanceId) this.handlers?.onTakeover(deviceId);
    } catch (err) {
      this.o.log.warn({ deviceId, err: errorMessage(err) }, 'cannot check a takeover; the heartbeat will');
    }
  }

  async claim(deviceId: string): Promise<void> {
    const previous = await this.ownership.claim(deviceId);
    if (previous) {
      this.o.log.info({ deviceId, previous }, 'took the agent over from another instance');
      await this.redis.publish(
        instanceChannel(previous),
        JSON.stringify({ t: 'takeover', deviceId, by: this.instanceId }),
      );
    }
  }

  refresh(deviceIds: readonly string[]): Promise<string[]> {
    return this.ownership.refresh(deviceIds);
  }

  async release(deviceId: string): Promise<void> {
    await this.ownership.release(deviceId);
  }

  owners(deviceIds: readonly string[]): Promise<Map<string, string>> {
    return this.ownership.owners(deviceIds);
  }

  remote(owner: string, deviceId: string): AgentTarget {
    return {
      where: 'relayed',
      command: (type, payload) => this.relay.request(owner, deviceId, type, payload),
    };
  }

  async publishRevocation(r: Revocation): Promise<void> {
    await this.redis.publish(REVOCATION_CHANNEL, encodeRevocation(r));
  }

  spendOnce(key: string, ttlMs: number): Promise<boolean> {
    return this.once.spend(key, ttlMs);
  }

  async advertiseRelayOrigin(origin: string): Promise<void> {
    // Renewed every heartbeat and lives for two: a dead instance's entry goes with it.
    const ttlMs = 2 * this.o.heartbeatMs + 5000;
    const put = () => this.redis.set(relayOriginKey(this.instanceId), origin, 'PX', ttlMs);
    clearInterval(this.relayOriginTimer);
    this.relayOriginTimer = setInterval(() => {
      put().catch(() => undefined); // Redis down: ioredis reconnects, the next tick puts it back
    }, this.o.heartbeatMs);
    this.relayOriginTimer.unref();
    await put();
  }

  async relayOriginOf(instanceId: string): Promise<string | undefined> {
    return (await this.redis.get(relayOriginKey(instanceId))) ?? undefined;
  }

  async close(): Promise<void> {
    clearInterval(this.relayOriginTimer);
    if (this.relayOriginTimer) await this.redis.del(relayOriginKey(this.instanceId)).catch(() => undefined);
    this.relay.close();
    this.handlers = undefined;
    await Promise.all([
      this.sub.quit().catch(() => this.sub.disconnect()),
      this.redis.quit().catch(() => this.redis.disconnect()),
    ]);
  }
}
