/**
 * Which instance holds which agent: one key per device, `porthole:owner:<deviceId>` → instance id,
 * with a TTL the heartbeat renews. A connection sets it (the previous holder is returned, so it can be
 * told to let go); a disconnect deletes it only if it still names this instance, so an instance that
 * lost the agent to another never erases the newer claim. If an instance dies, its keys expire
 * within one TTL and the agents, reconnecting elsewhere, overwrite them sooner.
 */
import type { Redis } from 'ioredis';

/** Keys per script call or MGET: bounds one Redis command's size with thousands of agents. */
const CHUNK = 1000;

// KEYS: owner keys; ARGV[1]: this instance; ARGV[2]: TTL in ms. Returns the 1-based indexes of keys
// that no longer name this instance (left untouched).
const REFRESH = `
local lost = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
  else
    lost[#lost + 1] = i
  end
end
return lost`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export function ownerKey(deviceId: string): string {
  return `porthole:owner:${deviceId}`;
}

export class OwnershipRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly instanceId: string,
    private readonly ttlMs: number,
  ) {}

  /** Claims the device for this instance; returns the instance that held it before, if another one. */
  async claim(deviceId: string): Promise<string | undefined> {
    const previous = (await this.redis.call(
      'SET',
      ownerKey(deviceId),
      this.instanceId,
      'PX',
      this.ttlMs,
      'GET',
    )) as string | null;
    return previous && previous !== this.instanceId ? previous : undefined;
  }

  /** Renews the TTL of the devices still ours; returns those whose key names someone else or expired. */
  async refresh(deviceIds: readonly string[]): Promise<string[]> {
    const lost: string[] = [];
    for (let i = 0; i < deviceIds.length; i += CHUNK) {
      const chunk = deviceIds.slice(i, i + CHUNK);
      const indexes = (await this.redis.eval(
        REFRESH,
        chunk.length,
        ...chunk.map(ownerKey),
        this.instanceId,
        String(this.ttlMs),
      )) as number[];
      for (const n of indexes) {
        const id = chunk[n - 1];
        if (id !== undefined) lost.push(id);
      }
    }
    return lost;
  }

  async release(deviceId: string): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, ownerKey(deviceId), this.instanceId)) === 1;
  }

  /** Forgets another instance's claim when it is still that instance's (it is gone). */
  async releaseFor(deviceId: string, owner: string): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, ownerKey(deviceId), owner)) === 1;
  }

  async owners(deviceIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < deviceIds.length; i += CHUNK) {
      const chunk = deviceIds.slice(i, i + CHUNK);
      if (chunk.length === 0) continue;
      const values = await this.redis.mget(...chunk.map(ownerKey));
      chunk.forEach((id, n) => {
        const v = values[n];
        if (v) out.set(id, v);
      });
    }
    return out;
  }
}
