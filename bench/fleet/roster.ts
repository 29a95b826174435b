/**
 * Which API instance holds each simulated agent, as the agent workers report it, and the viewers'
 * choice of target: a `local` request goes through the instance holding the agent, a `cross` one
 * through another instance, so the API must relay it (Redis routing) or refuse it.
 */
import type { StateChange } from './worker-messages.js';

export type RouteLabel = 'local' | 'cross';

export class FleetRoster {
  private readonly holders = new Map<string, number>();
  private readonly counts: number[];
  /** Date.now() of the latest change applied (a connect or a drop). */
  lastChangeAt = 0;

  constructor(readonly instances: number) {
    this.counts = new Array<number>(instances).fill(0);
  }

  apply(changes: readonly StateChange[]): void {
    for (const [deviceId, instance, at] of changes) {
      const before = this.holders.get(deviceId);
      if (before !== undefined) this.counts[before] = (this.counts[before] ?? 0) - 1;
      if (instance >= 0 && instance < this.instances) {
        this.holders.set(deviceId, instance);
        this.counts[instance] = (this.counts[instance] ?? 0) + 1;
      } else {
        this.holders.delete(deviceId);
      }
      this.lastChangeAt = Math.max(this.lastChangeAt, at);
    }
  }

  holder(deviceId: string): number | undefined {
    return this.holders.get(deviceId);
  }

  /** Agents held by each instance. */
  held(): number[] {
    return [...this.counts];
  }

  get online(): number {
    return this.holders.size;
  }

  /**
   * A connected agent and the instance to ask it through, for a request labelled `label`; undefined
   * when no agent is connected (or, for `cross`, when there is a single instance).
   */
  pick(
    deviceIds: readonly string[],
    label: RouteLabel,
    random: () => number = Math.random,
  ): { deviceId: string; via: number } | undefined {
    if (label === 'cross' && this.instances < 2) return undefined;
    // A few tries: most agents are connected whenever requests are sent.
    for (let attempt = 0; attempt < 16; attempt++) {
      const deviceId = deviceIds[Math.floor(random() * deviceIds.length)];
      if (deviceId === undefined) return undefined;
      const holder = this.holders.get(deviceId);
      if (holder === undefined) continue;
      if (label === 'local') return { deviceId, via: holder };
      const other = Math.floor(random() * (this.instances - 1));
      return { deviceId, via: other >= holder ? other + 1 : other };
    }
    return undefined;
  }
}
