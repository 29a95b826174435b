/**
 * The impaired-network harness for real: namespaces, veths, the TUN router process and tbf. Probes
 * cross from the viewer's namespace to the agent's; needs root and /dev/net/tun (skipped otherwise).
 */
import { createHash } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_IP, startImpairedNetwork, type ImpairedNetwork } from '../../../bench/net/harness.js';
import { enterNetns, harnessUnavailable } from '../../../bench/net/linux-net.js';
import { PROFILES } from '../../../bench/net/profiles.js';

const unavailable = harnessUnavailable();
const UDP_PORT = 7001;
const TCP_PORT = 7002;

let net: ImpairedNetwork;
let echo: UdpSocket;
let sink: Server;
let lastReceived = { bytes: 0, sha: '', ms: 0 };

/**
 * Runs `fn` with the main thread in the viewer's namespace. Node opens a socket's descriptor at
 * bind or connect, not at construction, so `fn` must wait for that before the thread moves back.
 */
async function inViewer<T>(fn: () => Promise<T>): Promise<T> {
  const back = enterNetns(`/run/netns/${net.viewerNs}`);
  try {
    return await fn();
  } finally {
    back();
  }
}

/** Sends `n` numbered UDP probes `gapMs` apart to the echo server; round trips in ms (NaN: lost). */
async function probe(n: number, gapMs: number): Promise<number[]> {
  const client = await inViewer(async () => {
    const c = createSocket('udp4');
    await new Promise<void>((resolve) => c.bind(0, resolve));
    return c;
  });
  const sentAt: number[] = [];
  const rtt = new Array<number>(n).fill(Number.NaN);
  client.on('message', (m) => {
    const i = m.readUInt32BE(0);
    if (i < n) rtt[i] = performance.now() - sentAt[i]!;
  });
  for (let i = 0; i < n; i++) {
    const b = Buffer.alloc(200);
    b.writeUInt32BE(i);
    sentAt[i] = performance.now();
    client.send(b, UDP_PORT, AGENT_IP);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  await new Promise((r) => setTimeout(r, 1000));
  client.close();
  return rtt;
}

/** Sends `data` from the viewer to the agent over TCP; resolves when the agent has it all. */
async function transfer(data: Buffer): Promise<{ ms: number; sha: string; bytes: number }> {
  const start = performance.now();
  const done = new Promise<void>((resolve) => sink.once('received', resolve));
  const sock = await inViewer(async () => {
    const c = createConnection({ host: AGENT_IP, port: TCP_PORT });
    await new Promise<void>((resolve, reject) => c.once('connect', resolve).once('error', reject));
    return c;
  });
  sock.end(data);
  await done;
  return { ...lastReceived, ms: lastReceived.ms - start };
}

beforeAll(async () => {
  if (unavailable) return;
  net = await startImpairedNetwork({ seed: 11 });
  const back = net.enterAgent();
  try {
    echo = createSocket('udp4');
    echo.on('message', (m, r) => echo.send(m, r.port, r.address));
    await new Promise<void>((resolve) => echo.bind(UDP_PORT, AGENT_IP, resolve));
    sink = createServer((s) => {
      const hash = createHash('sha256');
      let bytes = 0;
      s.on('data', (d: Buffer) => {
        hash.update(d);
        bytes += d.length;
      });
      s.on('end', () => {
        lastReceived = { bytes, sha: hash.digest('hex'), ms: performance.now() };
        sink.emit('received');
      });
    });
    await new Promise<void>((resolve) => sink.listen(TCP_PORT, AGENT_IP, resolve));
  } finally {
    back();
  }
}, 30_000);

afterAll(async () => {
  echo?.close();
  sink?.close();
  await net?.stop();
});

describe.skipIf(unavailable)(
  `impaired network between namespaces${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it('adds the wifi profile round trip (20 ms ± 5) to UDP', async () => {
      // The router and this echo run on a shared machine: what a loaded scheduler adds to every round
      // trip is measured first (no impairment) and taken off, so the upper bound checks the delay the
      // router applies (once: twice would add 40 ms), not how busy the machine is. The lower bounds
      // need no such care: load never makes a packet faster.
      const median = (xs: number[]): number => xs.sort((a, b) => a - b)[xs.length >> 1]!;
      await net.setProfile(PROFILES.lan);
      const base = median((await probe(100, 15)).filter(Number.isFinite));
      await net.setProfile(PROFILES.wifi);
      const rtt = (await probe(200, 15)).filter(Number.isFinite);
      expect(median(rtt)).toBeGreaterThan(18);
      expect(median(rtt) - base).toBeLessThan(30);
      // Jitter never takes a round trip below 20 − 5 ms.
      expect(Math.min(...rtt)).toBeGreaterThanOrEqual(14.5);
    });

    it('loses exactly the probes the router says it dropped (bad: 3 % each way)', async () => {
      await net.setProfile(PROFILES.bad);
      const before = await net.routerStats();
      const rtt = await probe(300, 10);
      const after = await net.routerStats();
      const lost = rtt.filter(Number.isNaN).length;
      const routerLost = after.down.lost - before.down.lost + (after.up.lost - before.up.lost);
      expect(lost).toBe(routerLost);
      // 1 − 0.97² ≈ 5.9 % of round trips: 18 of 300 expected.
      expect(lost).toBeGreaterThan(5);
      expect(lost).toBeLessThan(40);
      const ok = rtt.filter(Number.isFinite).sort((a, b) => a - b);
      expect(ok[ok.length >> 1]).toBeGreaterThan(110);
    });

    it('paces TCP to the thin profile’s 1 Mb/s through tbf', async () => {
      await net.setProfile(PROFILES.thin);
      const data = Buffer.alloc(200_000, 7);
      const r = await transfer(data);
      expect(r.bytes).toBe(data.length);
      const mbps = (data.length * 8) / (r.ms * 1000);
      expect(mbps).toBeGreaterThan(0.7);
      expect(mbps).toBeLessThan(1.1);
    });

    it('delivers a TCP stream intact through loss and reordering, the losses retransmitted', async () => {
      await net.setProfile(PROFILES.bad);
      const data = Buffer.from(Array.from({ length: 150_000 }, (_, i) => (i * 31) & 0xff));
      const before = await net.routerStats();
      const r = await transfer(data);
      const after = await net.routerStats();
      expect(r.bytes).toBe(data.length);
      expect(r.sha).toBe(createHash('sha256').update(data).digest('hex'));
      expect(after.up.lost - before.up.lost).toBeGreaterThan(0);
    });

    it('drops everything during an outage and carries traffic again after it', async () => {
      await net.setProfile(PROFILES.lan);
      const span = await net.outage(600);
      expect(span.untilWallMs - span.fromWallMs).toBe(600);
      const during = await probe(20, 10); // 200 ms of probes inside the outage
      expect(during.every(Number.isNaN)).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      const afterOutage = await probe(20, 5);
      expect(afterOutage.filter(Number.isFinite).length).toBe(20);
    });
  },
);
