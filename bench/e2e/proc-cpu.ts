/**
 * CPU time of process trees from /proc (Linux). A tree's time is the sum, over its live members, of
 * user + system time plus the reaped children's (cutime + cstime): when a member exits, its time moves
 * into its parent's cumulative fields, so the sum never goes backwards.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const CLOCK_TICKS = 100; // USER_HZ on Linux

export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
}

/** Parses a /proc/<pid>/stat line (the command name may contain spaces and parentheses). */
export function parseProcStat(line: string): ProcStat {
  const close = line.lastIndexOf(')');
  const pid = Number.parseInt(line, 10);
  const f = line.slice(close + 2).split(' ');
  // After ")": state is field 3 (index 0); ppid 4 → 1; utime 14 → 11, stime 12, cutime 13, cstime 14.
  const n = (i: number): number => Number(f[i] ?? 0);
  return { pid, ppid: n(1), ticks: n(11) + n(12) + n(13) + n(14) };
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      out.push(parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8')));
    } catch {
      // gone while listing
    }
  }
  return out;
}

/** CPU seconds used so far by the trees rooted at `roots` (each process counted once). */
export function treeCpuSeconds(roots: readonly number[]): number {
  const stats = allStats();
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) {
    const list = children.get(s.ppid) ?? [];
    list.push(s);
    children.set(s.ppid, list);
  }
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const seen = new Set<number>();
  let ticks = 0;
  const walk = (pid: number): void => {
    if (seen.has(pid)) return;
    seen.add(pid);
    ticks += byPid.get(pid)?.ticks ?? 0;
    for (const c of children.get(pid) ?? []) walk(c.pid);
  };
  for (const r of roots) walk(r);
  return ticks / CLOCK_TICKS;
}

/** Percent of one core used by the trees between construction and `percent()`. */
export class TreeCpuMeter {
  private readonly startCpu: number;
  private readonly startWall = performance.now();
  constructor(private readonly roots: () => readonly number[]) {
    this.startCpu = treeCpuSeconds(roots());
  }
  percent(): number {
    const seconds = (performance.now() - this.startWall) / 1000;
    return (100 * (treeCpuSeconds(this.roots()) - this.startCpu)) / seconds;
  }
}

/** Pids whose command line matches. */
export function findPids(match: (argv: string[]) => boolean): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.length > 0 && match(argv)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/** Whether `ancestor` is `pid`'s parent, grandparent, … */
export function isDescendantOf(pid: number, ancestor: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 32; hops++) {
    try {
      p = parseProcStat(readFileSync(`/proc/${p}/stat`, 'utf8')).ppid;
    } catch {
      return false;
    }
    if (p === ancestor) return true;
  }
  return false;
}
