/**
 * The impaired network: three network namespaces the harness creates and deletes.
 *
 *   viewer ns  eth0 10.77.1.2 ──veth── rv 10.77.1.1 ┐ router ns ┌ ra 10.77.2.1 ──veth── eth0 10.77.2.2  agent ns
 *                                                   └── tun0 ───┘
 *
 * In the router namespace every packet that arrives on rv or ra is routed into the TUN device (policy
 * routing by input interface); the router process (router-main.ts) reads it, impairs it and writes it
 * back, and the kernel forwards it out of the other veth. UDP and TCP see the same delay, jitter,
 * loss, reordering and outages. Rate limits are `tbf` qdiscs on rv (towards the viewer) and ra
 * (towards the agent). Nothing is added to the namespace the harness was started from.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { DirectionStats } from './impairment.js';
import { enterNetns } from './linux-net.js';
import { directionImpairment, tbfArgs, type NetProfile } from './profiles.js';

export const VIEWER_IP = '10.77.1.2';
export const AGENT_IP = '10.77.2.2';
const VIEWER_PREFIX = '10.77.1.';

export interface RouterStats {
  down: DirectionStats;
  up: DirectionStats;
}

export interface TbfStats {
  sentBytes: number;
  sentPackets: number;
  dropped: number;
  overlimits: number;
}

export interface ImpairedNetwork {
  viewerNs: string;
  agentNs: string;
  routerNs: string;
  /** A script that runs Chromium inside the viewer namespace (give it as Playwright's executablePath). */
  chromiumPath: string;
  setProfile(p: NetProfile): Promise<void>;
  /** Drops every packet both ways for `ms`; resolves with the outage's wall-clock span once it began. */
  outage(ms: number): Promise<{ fromWallMs: number; untilWallMs: number }>;
  routerStats(): Promise<RouterStats>;
  /** The tbf counters towards the viewer (`down`) and towards the agent (`up`). */
  tbfStats(): { down: TbfStats; up: TbfStats };
  /** Runs `fn` with this process's main thread in the agent namespace (sockets, spawned children). */
  enterAgent(): () => void;
  /** Runs a command inside a namespace, returns its stdout; throws on failure. */
  exec(ns: string, argv: string[]): string;
  stop(): Promise<void>;
}

function run(argv: string[]): string {
  const [cmd, ...args] = argv;
  const r = spawnSync(cmd!, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${argv.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout || '').trim()}`);
  }
  return r.stdout;
}

class RouterProcess {
  private readonly waiting: ((o: Record<string, unknown>) => void)[] = [];
  private constructor(
    readonly child: ChildProcess,
    lines: Interface,
  ) {
    lines.on('line', (line) => {
      const o = JSON.parse(line) as Record<string, unknown>;
      this.waiting.shift()?.(o);
    });
  }

  static async start(ns: string, seed: number): Promise<RouterProcess> {
    const main = fileURLToPath(new URL('./router-main.ts', import.meta.url));
    const child = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, '--import', 'tsx', main, 'tun0', VIEWER_PREFIX, String(seed)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      lines.once('line', (l) => (l.includes('"ready"') ? resolve() : reject(new Error(`router: ${l}`))));
      child.once('exit', (code) => reject(new Error(`the router exited with ${code}`)));
    });
    return new RouterProcess(child, lines);
  }

  async send(cmd: object): Promise<Record<string, unknown>> {
    const answer = new Promise<Record<string, unknown>>((resolve) => this.waiting.push(resolve));
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
    const o = await answer;
    if (typeof o.error === 'string') throw new Error(`router: ${o.error}`);
    return o;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }
}

function parseTbf(text: string): TbfStats {
  const m = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/.exec(text);
  return {
    sentBytes: Number(m?.[1] ?? 0),
    sentPackets: Number(m?.[2] ?? 0),
    dropped: Number(m?.[3] ?? 0),
    overlimits: Number(m?.[4] ?? 0),
  };
}

/**
 * Drops every UDP packet a namespace sends out of `dev` (a network that allows only TCP, as many
 * corporate and hotel networks do). This kernel has no `gact` action, so the u32 filter sends UDP to
 * an htb class whose queue holds nothing. Returns a function that reads how many were dropped.
 */
export function dropUdp(ns: string, dev = 'eth0'): () => number {
  const tc = (args: string[]): string => run(['tc', '-n', ns, ...args]);
  tc(['qdisc', 'replace', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '1']);
  tc(['class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:1', 'htb', 'rate', '10gbit']);
  tc(['class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:2', 'htb', 'rate', '8bit']);
  tc(['qdisc', 'add', 'dev', dev, 'parent', '1:2', 'handle', '20:', 'pfifo', 'limit', '0']);
  tc([
    'filter',
    'add',
    'dev',
    dev,
    'parent',
    '1:',
    'protocol',
    'ip',
    'u32',
    'match',
    'ip',
    'protocol',
    '17',
    '0xff',
    'flowid',
    '1:2',
  ]);
  return () => {
    const text = tc(['-s', 'qdisc', 'show', 'dev', dev]);
    const block = text.slice(text.indexOf('qdisc pfifo 20:'));
    return Number(/dropped (\d+)/.exec(block)?.[1] ?? 0);
  };
}

export async function startImpairedNetwork(opts: { seed?: number } = {}): Promise<ImpairedNetwork> {
  const id = randomBytes(3).toString('hex');
  const viewerNs = `ph-v-${id}`;
  const agentNs = `ph-a-${id}`;
  const routerNs = `ph-r-${id}`;
  const created: string[] = [];
  const scripts = mkdtempSync(join(tmpdir(), 'porthole-net-'));
  let router: RouterProcess | undefined;
  const stop = async (): Promise<void> => {
    await router?.stop();
    for (const ns of created.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(scripts, { recursive: true, force: true });
  };
  const inNs = (ns: string, argv: string[]): string => run(['ip', 'netns', 'exec', ns, ...argv]);
  try {
    for (const ns of [viewerNs, agentNs, routerNs]) {
      run(['ip', 'netns', 'add', ns]);
      created.push(ns);
      run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    run([
      'ip',
      '-n',
      routerNs,
      'link',
      'add',
      'rv',
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      viewerNs,
    ]);
    run([
      'ip',
      '-n',
      routerNs,
      'link',
      'add',
      'ra',
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      agentNs,
    ]);
    for (const [ns, addr, gw] of [
      [viewerNs, `${VIEWER_IP}/24`, '10.77.1.1'],
      [agentNs, `${AGENT_IP}/24`, '10.77.2.1'],
    ] as const) {
      run(['ip', '-n', ns, 'addr', 'add', addr, 'dev', 'eth0']);
      run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      run(['ip', '-n', ns, 'route', 'add', 'default', 'via', gw]);
    }
    run(['ip', '-n', routerNs, 'addr', 'add', '10.77.1.1/24', 'dev', 'rv']);
    run(['ip', '-n', routerNs, 'addr', 'add', '10.77.2.1/24', 'dev', 'ra']);
    run(['ip', '-n', routerNs, 'link', 'set', 'rv', 'up']);
    run(['ip', '-n', routerNs, 'link', 'set', 'ra', 'up']);
    // Segmentation offloads would hand tbf 64 KiB super-packets; the link is judged packet by packet.
    for (const [ns, dev] of [
      [routerNs, 'rv'],
      [routerNs, 'ra'],
      [viewerNs, 'eth0'],
      [agentNs, 'eth0'],
    ] as const) {
      spawnSync('ip', ['netns', 'exec', ns, 'ethtool', '-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
    }
    run(['ip', '-n', routerNs, 'tuntap', 'add', 'dev', 'tun0', 'mode', 'tun']);
    run(['ip', '-n', routerNs, 'link', 'set', 'tun0', 'up']);
    for (const key of [
      'net.ipv4.ip_forward=1',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
      'net.ipv4.conf.tun0.rp_filter=0',
      'net.ipv4.conf.all.send_redirects=0',
      'net.ipv4.conf.rv.send_redirects=0',
      'net.ipv4.conf.ra.send_redirects=0',
    ]) {
      inNs(routerNs, ['sysctl', '-q', '-w', key]);
    }
    // What arrives from either side goes to the TUN device; what the router writes back (arriving on
    // tun0) is routed by the main table, straight to its destination's veth.
    run(['ip', '-n', routerNs, 'route', 'add', 'default', 'dev', 'tun0', 'table', '100']);
    run(['ip', '-n', routerNs, 'rule', 'add', 'iif', 'rv', 'lookup', '100']);
    run(['ip', '-n', routerNs, 'rule', 'add', 'iif', 'ra', 'lookup', '100']);
    router = await RouterProcess.start(routerNs, opts.seed ?? 1);

    const chromiumPath = join(scripts, 'chromium-in-viewer-ns');
    writeFileSync(chromiumPath, `#!/bin/sh\nexec ip netns exec ${viewerNs} /usr/bin/chromium "$@"\n`);
    chmodSync(chromiumPath, 0o755);

    const r = router;
    const net: ImpairedNetwork = {
      viewerNs,
      agentNs,
      routerNs,
      chromiumPath,
      async setProfile(p) {
        const d = directionImpairment(p);
        await r.send({ cmd: 'impair', down: d, up: d });
        run(['tc', '-n', routerNs, ...tbfArgs('rv', p)]);
        run(['tc', '-n', routerNs, ...tbfArgs('ra', p)]);
      },
      async outage(ms) {
        const o = await r.send({ cmd: 'outage', ms });
        return { fromWallMs: Number(o.fromWallMs), untilWallMs: Number(o.untilWallMs) };
      },
      async routerStats() {
        const o = await r.send({ cmd: 'stats' });
        return { down: o.down as DirectionStats, up: o.up as DirectionStats };
      },
      tbfStats() {
        const show = (dev: string): TbfStats =>
          parseTbf(run(['tc', '-n', routerNs, '-s', 'qdisc', 'show', 'dev', dev]));
        return { down: show('rv'), up: show('ra') };
      },
      enterAgent: () => enterNetns(`/run/netns/${agentNs}`),
      exec: inNs,
      stop,
    };
    return net;
  } catch (err) {
    await stop();
    throw err;
  }
}
