/**
 * The pure parts of `npm run bench:fleet`: the simulated agent's answers (read back by the API's own
 * AgentConnection and the protocol's validators), the percentiles, the ramp and its verdict, who holds
 * which agent, the flags and the goal verdicts. No processes, no sockets, no clock.
 */
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { AgentConnection } from '../../../src/api/agent-connection.js';
import { silentLogger } from '../../../src/log/logger.js';
import { agentReply, listSessionsResult, startDesktopResult } from '../../../src/protocol/api.js';
import { apiLinkHeaders, parseApiLinkPeer } from '../../../src/protocol/api-version.js';
import { h264Offer } from '../../../src/protocol/common.js';
import { answerCommand, CANNED_OFFER_SDP } from '../../../bench/fleet/sim-agent.js';
import {
  errorRatio,
  rampNext,
  rampRates,
  rampVerdict,
  summarizeLatencies,
  bytesPerAgent,
  type RampStep,
} from '../../../bench/fleet/results.js';
import { FleetRoster } from '../../../bench/fleet/roster.js';
import { fleetOptions, FULL, QUICK } from '../../../bench/fleet/options.js';
import { errorCode } from '../../../bench/fleet/viewer-load.js';
import { fleetMarkdown, goalRows, type FleetReport } from '../../../bench/fleet/report-table.js';
import { FakeClock } from '../../fixtures/fake-clock.js';

/** A socket between the API's AgentConnection and the simulated agent: every command is answered. */
class SimulatedAgentSocket extends EventEmitter {
  send(text: string, cb?: (err?: Error) => void): void {
    cb?.();
    const reply = JSON.stringify(answerCommand(text));
    queueMicrotask(() => this.emit('message', Buffer.from(reply), false));
  }
}

function apiSideOfSimulatedAgent(): AgentConnection {
  return new AgentConnection(
    new SimulatedAgentSocket() as unknown as WebSocket,
    'dev-1',
    '127.0.0.1',
    // What the simulated agent announces on its upgrade: the real service's headers.
    parseApiLinkPeer(apiLinkHeaders()),
    { commandTimeoutMs: 30_000, log: silentLogger, timers: new FakeClock() },
  );
}

describe('the simulated agent', () => {
  it('answers start_desktop with an answer the API accepts, for the desktop it was asked for', async () => {
    const conn = apiSideOfSimulatedAgent();
    const result = await conn.command('start_desktop', {
      sessionId: 'desk-abc',
      offer: CANNED_OFFER_SDP,
      iceServers: [{ urls: 'stun:127.0.0.1:3478' }],
      viewer: { name: 'fleet-bench' },
    });
    expect(result.sessionId).toBe('desk-abc');
    expect(startDesktopResult(result, 'result')).toEqual(result);
  });

  it('answers list_sessions with sessions the protocol validates', async () => {
    const conn = apiSideOfSimulatedAgent();
    const result = await conn.command('list_sessions', {});
    expect(listSessionsResult(result, 'result').sessions.length).toBeGreaterThan(0);
  });

  it('answers stop_desktop for the desktop named', async () => {
    const conn = apiSideOfSimulatedAgent();
    expect(await conn.command('stop_desktop', { sessionId: 'desk-x' })).toEqual({
      sessionId: 'desk-x',
      stopped: true,
    });
  });

  it('refuses a malformed command with bad_request, as the service does, naming the field', () => {
    const reply = answerCommand(
      JSON.stringify({ id: 'c-1', type: 'start_desktop', payload: { sessionId: 'd', iceServers: [] } }),
    );
    expect(agentReply(reply, '')).toEqual(reply);
    expect(reply).toMatchObject({ id: 'c-1', ok: false, error: { code: 'bad_request' } });
    expect(reply.ok === false && reply.error.message).toMatch(/offer/);
    expect(answerCommand('{not json')).toMatchObject({ id: null, ok: false, error: { code: 'bad_request' } });
    expect(answerCommand(JSON.stringify({ id: 'c-2', type: 'reboot' }))).toMatchObject({
      id: 'c-2',
      ok: false,
    });
  });

  it("sends viewers' offers the API's validator accepts", () => {
    expect(h264Offer(CANNED_OFFER_SDP, 'offer')).toBe(CANNED_OFFER_SDP);
  });
});

describe('fleet figures', () => {
  it('takes nearest-rank percentiles and keeps the failures by code', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 1…100, unsorted
    const s = summarizeLatencies(values, { device_offline: 3 });
    expect(s).toMatchObject({ ok: 100, p50: 50, p99: 99, max: 100, errors: { device_offline: 3 } });
    expect(errorRatio(s)).toBeCloseTo(3 / 103);
    expect(summarizeLatencies([]).p99).toBeNaN();
  });

  it('grows the ramp by half each step up to its maximum', () => {
    expect(rampRates(100, 2000)).toEqual([100, 150, 225, 338, 507, 761, 1142, 1713]);
    expect(rampRates(1, 5)).toEqual([1, 2, 3, 5]);
    expect(() => rampRates(0, 10)).toThrow(RangeError);
  });

  const step = (rate: number, p99: number, errors: Record<string, number> = {}, ok = 1000): RampStep => ({
    rate,
    summary: { ok, p50: p99 / 2, p99, max: p99, errors },
  });

  it('names the first rate whose p99 passes the limit twice, and the last within', () => {
    const v = rampVerdict([step(100, 20), step(150, 60), step(225, 140), step(225, 150)], 100);
    expect(v).toMatchObject({ lastWithin: 150, firstOver: 225 });
    expect(v.reason).toMatch(/p99 150/);
  });

  it('does not stop at a step whose repeat came in within the limit', () => {
    const v = rampVerdict([step(100, 20), step(150, 130), step(150, 40), step(225, 50)], 100);
    expect(v).toEqual({ lastWithin: 225, firstOver: undefined });
  });

  it('repeats a step over the limit once, then stops', () => {
    const rates = [100, 150, 225];
    expect(rampNext([], rates, 100)).toBe(100);
    expect(rampNext([step(100, 20)], rates, 100)).toBe(150);
    expect(rampNext([step(100, 20), step(150, 120)], rates, 100)).toBe(150);
    expect(rampNext([step(100, 20), step(150, 120), step(150, 30)], rates, 100)).toBe(225);
    expect(rampNext([step(100, 20), step(150, 120), step(150, 130)], rates, 100)).toBeUndefined();
    expect(rampNext([step(100, 20), step(150, 20), step(225, 20)], rates, 100)).toBeUndefined();
  });

  it('fails a step whose requests fail, however fast the rest were', () => {
    const v = rampVerdict(
      [step(100, 20), step(150, 20, { timeout: 50 }), step(150, 20, { timeout: 40 })],
      100,
    );
    expect(v).toMatchObject({ lastWithin: 100, firstOver: 150 });
    expect(v.reason).toMatch(/40 timeout/);
    expect(rampVerdict([step(100, 5, {}, 0)], 100)).toMatchObject({ lastWithin: undefined, firstOver: 100 });
  });

  it('says when the ramp ended within the limit', () => {
    expect(rampVerdict([step(100, 20), step(150, 30)], 100)).toEqual({
      lastWithin: 150,
      firstOver: undefined,
    });
  });

  it('divides the RSS growth by the agents held', () => {
    expect(bytesPerAgent(100e6, 150e6, 2500)).toBe(20_000);
    expect(bytesPerAgent(1, 2, 0)).toBeNaN();
  });

  it('reads the error code of a failed answer', () => {
    expect(errorCode(409, '{"error":{"code":"device_offline","message":"x"}}')).toBe('device_offline');
    expect(errorCode(502, '<html>')).toBe('http_502');
  });
});

describe('the roster of agents', () => {
  it('counts the agents each instance holds as they connect, move and drop', () => {
    const r = new FleetRoster(2);
    r.apply([
      ['a', 0, 10],
      ['b', 1, 11],
      ['c', 1, 12],
    ]);
    expect(r.held()).toEqual([1, 2]);
    r.apply([
      ['b', -1, 20],
      ['b', 0, 25],
      ['c', -1, 21],
    ]);
    expect(r.held()).toEqual([2, 0]);
    expect(r.online).toBe(2);
    expect(r.lastChangeAt).toBe(25);
  });

  it('sends a local request through the holder and a cross one through another instance', () => {
    const r = new FleetRoster(2);
    r.apply([
      ['a', 0, 1],
      ['b', 1, 1],
    ]);
    const ids = ['a', 'b', 'gone'];
    expect(r.pick(ids, 'local', () => 0)).toEqual({ deviceId: 'a', via: 0 });
    expect(r.pick(ids, 'cross', () => 0)).toEqual({ deviceId: 'a', via: 1 });
    expect(r.pick(ids, 'cross', () => 0.5)).toEqual({ deviceId: 'b', via: 0 });
    // Only a disconnected agent to pick: no target.
    expect(r.pick(['gone'], 'local', () => 0)).toBeUndefined();
    expect(new FleetRoster(1).pick(['a'], 'cross')).toBeUndefined();
  });
});

describe('bench:fleet flags and goals', () => {
  it('runs the issue goal by default and a small smoke test with --quick', () => {
    expect(fleetOptions([])).toMatchObject({ ...FULL, quick: false });
    expect(fleetOptions(['--quick'])).toMatchObject({ ...QUICK, quick: true });
    expect(fleetOptions(['--agents', '800', '--rate', '50', '--no-failover'])).toMatchObject({
      agents: 800,
      rate: 50,
      noFailover: true,
    });
    expect(() => fleetOptions(['--agents', 'many'])).toThrow(/--agents/);
    expect(() => fleetOptions(['--bogus'])).toThrow();
  });

  const report = (over: Partial<FleetReport>): FleetReport => ({
    options: fleetOptions([]),
    machine: 'm',
    date: '2026-12-03',
    loadAverage: { before: 0, after: 0 },
    routing: true,
    seedSeconds: 1,
    connectSeconds: 1,
    held: [2500, 2500],
    rssIdle: [0, 0],
    rssAgents: [0, 0],
    perAgentBytes: [0, 0],
    steady: {
      local: summarizeLatencies([5]),
      cross: summarizeLatencies(Array.from({ length: 100 }, () => 8)),
    },
    clientDelay: { p99: 10, max: 12 },
    cpu: { api: [0, 0], workers: [0], postgres: 0 },
    ramp: [],
    verdict: { lastWithin: 100, firstOver: undefined },
    p99LimitMs: 100,
    storm: {
      moved: 2500,
      back: true,
      seconds: 4,
      heldAfter: 5000,
      confirmedOnline: 5000,
      after: summarizeLatencies([3]),
    },
    ...over,
  });

  it('writes the refused cross-instance requests and the unmet goal into the table', () => {
    const refused = summarizeLatencies([], { device_offline: 100 });
    const md = fleetMarkdown(
      report({ routing: false, steady: { local: summarizeLatencies([5]), cross: refused } }),
    );
    expect(md).toMatch(
      /\| cross-instance \(agent on the other\) \| 0 \| – \| – \| – \| 100 device_offline \|/,
    );
    expect(md).toMatch(/\*\*no\*\*: this porthole has no `api serve --redis`/);
    expect(md).not.toMatch(/NaN|undefined|none req/);
  });

  it('meets the goals only with the figures to show it', () => {
    expect(goalRows(report({})).map((g) => g.met)).toEqual([true, true, true]);
    const refused = summarizeLatencies([], { device_offline: 100 });
    const noRouting = goalRows(
      report({ routing: false, steady: { local: summarizeLatencies([5]), cross: refused } }),
    );
    expect(noRouting[1]).toMatchObject({ met: false });
    expect(noRouting[1]?.why).toMatch(/--redis/);
    const slow = summarizeLatencies(Array.from({ length: 100 }, (_, i) => (i < 95 ? 5 : 40)));
    const slowRow = goalRows(
      report({ steady: { local: slow, cross: slow }, clientDelay: { p99: 30, max: 300 } }),
    )[1];
    expect(slowRow?.met).toBe(false);
    expect(slowRow?.why).toMatch(/heartbeat sweep.*up to 300 ms/);
    expect(goalRows(report({ held: [5000, 0] }))[0]?.met).toBe(false);
    const late = {
      moved: 2500,
      back: true,
      seconds: 75,
      heldAfter: 5000,
      confirmedOnline: 5000,
      after: slow,
    };
    expect(goalRows(report({ storm: late }))[2]?.met).toBe(false);
  });
});
