import { readFile, writeFile, rename } from 'node:fs/promises';
import os from 'node:os';

export const BENCHMARKS_FILE = new URL('../design/BENCHMARKS.md', import.meta.url);

/** Median and other percentiles of a sample (nearest-rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

/**
 * Replaces (or appends) one benchmark's section in design/BENCHMARKS.md, between
 * `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, so each benchmark owns its part of the file.
 */
export async function writeSection(name: string, markdown: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(BENCHMARKS_FILE, 'utf8');
  } catch {
    text =
      '# Benchmarks\n\nWritten by `npm run bench`; each section is replaced by its benchmark on every run.\n';
  }
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  text =
    i >= 0 && j > i
      ? text.slice(0, i) + block + text.slice(j + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  const tmp = new URL(`${BENCHMARKS_FILE.href}.tmp`);
  await writeFile(tmp, text);
  await rename(tmp, BENCHMARKS_FILE);
}
