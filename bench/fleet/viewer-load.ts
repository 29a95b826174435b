/**
 * The viewers of the fleet benchmark: `POST /api/devices/:id/desktop` (the route the viewer uses to
 * start a desktop) at a steady, open-loop rate: each request leaves on schedule whether or not the
 * earlier ones were answered, so a slow API shows as latency, not as a lower rate. Each request is
 * labelled local or cross-instance by who held the agent when it was sent.
 */
import { Agent, request } from 'node:http';
import { CANNED_OFFER_SDP } from './sim-agent.js';
import type { FleetRoster, RouteLabel } from './roster.js';
import { summarizeLatencies, type LatencySummary } from './results.js';

export interface ViewerLoadOptions {
  /** http://host:port of each API instance, by instance index. */
  apiUrls: string[];
  viewerToken: string;
  deviceIds: readonly string[];
  roster: FleetRoster;
  rate: number;
  durationMs: number;
  /** The labels to send, in turn (['local', 'cross'], or ['local'] alone). */
  mix: readonly RouteLabel[];
  /** Requests in flight beyond which the generator counts the next one as `generator_backlog`. */
  maxInFlight?: number;
  /** How long to wait for the last answers after the phase. */
  drainMs?: number;
  /** Every answered request (diagnosis: when the slow ones left, through which instance). */
  onAnswer?: (a: { label: RouteLabel; via: number; sentAtMs: number; ms: number; status: number }) => void;
}

/** Each label's requests, and all of them together (what a ramp step is judged on). */
export type LoadResult = Record<RouteLabel | 'all', LatencySummary>;

export class ViewerLoad {
  private readonly agents: Agent[];

  constructor(apiUrls: readonly string[]) {
    // Idle sockets are dropped after 4 s, before node:http's server closes them at 5 s: reusing one the
    // server is closing would fail the request with ECONNRESET, a client artefact, not the API's.
    this.agents = apiUrls.map(() => new Agent({ keepAlive: true, maxSockets: 512, timeout: 4000 }));
  }

  close(): void {
    for (const a of this.agents) a.destroy();
  }

  async run(o: ViewerLoadOptions): Promise<LoadResult> {
    const samples: Record<RouteLabel, number[]> = { local: [], cross: [] };
    const errors: Record<RouteLabel, Record<string, number>> = { local: {}, cross: {} };
    const fail = (label: RouteLabel, code: string) => {
      errors[label][code] = (errors[label][code] ?? 0) + 1;
    };
    const body = JSON.stringify({ offer: CANNED_OFFER_SDP });
    const maxInFlight = o.maxInFlight ?? 4000;
    let inFlight = 0;
    const inFlightBy: Record<RouteLabel, number> = { local: 0, cross: 0 };
    let sent = 0;
    const pendingDone: Promise<void>[] = [];
    const start = performance.now();
    const total = Math.round((o.rate * o.durationMs) / 1000);

    const sendOne = (label: RouteLabel): void => {
      const target = o.roster.pick(o.deviceIds, label);
      if (!target) return fail(label, 'no_target');
      if (inFlight >= maxInFlight) return fail(label, 'generator_backlog');
      const url = new URL(
        `/api/devices/${encodeURIComponent(target.deviceId)}/desktop`,
        o.apiUrls[target.via],
      );
      inFlight += 1;
      inFlightBy[label] += 1;
      const settled = () => {
        inFlight -= 1;
        inFlightBy[label] -= 1;
      };
      const t0 = performance.now();
      pendingDone.push(
        new Promise<void>((resolve) => {
          const req = request(
            url,
            {
              method: 'POST',
              agent: this.agents[target.via],
              headers: {
                authorization: `Bearer ${o.viewerToken}`,
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(body),
              },
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => {
                const ms = performance.now() - t0;
                o.onAnswer?.({
                  label,
                  via: target.via,
                  sentAtMs: t0 - start,
                  ms,
                  status: res.statusCode ?? 0,
                });
                if (res.statusCode === 200) samples[label].push(ms);
                else fail(label, errorCode(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
                settled();
                resolve();
              });
            },
          );
          req.on('error', (err: NodeJS.ErrnoException) => {
            fail(label, `network_${err.code ?? 'error'}`);
            settled();
            resolve();
          });
          req.end(body);
        }),
      );
    };

    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - start) * o.rate) / 1000) + 1);
        while (sent < due) {
          sendOne(o.mix[sent % o.mix.length] as RouteLabel);
          sent += 1;
        }
        if (sent >= total) return resolve();
        setTimeout(tick, Math.max(1, Math.min(10, 1000 / o.rate)));
      };
      tick();
    });
    const drained = await Promise.race([
      Promise.all(pendingDone).then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), o.drainMs ?? 40_000).unref()),
    ]);
    if (!drained) {
      // Still unanswered after the drain: counted as failures, and their late answers are ignored.
      for (const label of ['local', 'cross'] as const) {
        if (inFlightBy[label] > 0) errors[label].unanswered = inFlightBy[label];
      }
    }
    const allErrors: Record<string, number> = { ...errors.local };
    for (const [code, n] of Object.entries(errors.cross)) allErrors[code] = (allErrors[code] ?? 0) + n;
    return {
      local: summarizeLatencies(samples.local, errors.local),
      cross: summarizeLatencies(samples.cross, errors.cross),
      all: summarizeLatencies([...samples.local, ...samples.cross], allErrors),
    };
  }
}

/** The API's error code from a failed answer's JSON body, else `http_<status>`. */
export function errorCode(status: number, body: string): string {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
    if (typeof code === 'string' && /^[a-z_]{1,64}$/.test(code)) return code;
  } catch {
    // not JSON
  }
  return `http_${status}`;
}
