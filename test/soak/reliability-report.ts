/**
 * Writes the soak suite's results (test-results/soak/*.json, see results.ts) into
 * design/RELIABILITY.md: each check owns the part of the file between `<!-- soak:NAME -->` and
 * `<!-- /soak:NAME -->`, and the run summary the part between `<!-- soak:run -->` and
 * `<!-- /soak:run -->`. The prose around them is written by hand; a check that did not run this time
 * keeps its previous numbers. The file is formatted with the repository's Prettier settings, so
 * `npm run lint` stays green after a run.
 *
 * Also runnable on its own to re-render from the last results: `npx tsx test/soak/reliability-report.ts`.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { RESULTS_DIR, type CheckResult } from './results.js';

export const RELIABILITY_DOC = fileURLToPath(new URL('../../design/RELIABILITY.md', import.meta.url));

/** The order the checks appear in the doc (a new check is appended). */
const ORDER = ['desktop-cycles', 'input', 'api-link', 'capacity', 'service-stop'];

export async function writeReliabilityReport(run: { runMs?: number } = {}): Promise<void> {
  const results = readResults();
  if (results.length === 0) return;
  let text = existsSync(RELIABILITY_DOC)
    ? readFileSync(RELIABILITY_DOC, 'utf8')
    : '# Reliability\n\nWritten by `npm run test:soak`.\n';
  text = replaceSection(text, 'run', runSummary(results, run.runMs));
  for (const r of results) text = replaceSection(text, r.check, checkSection(r));
  const options = (await prettier.resolveConfig(RELIABILITY_DOC)) ?? {};
  const formatted = await prettier.format(text, { ...options, filepath: RELIABILITY_DOC });
  writeFileSync(`${RELIABILITY_DOC}.tmp`, formatted);
  renameSync(`${RELIABILITY_DOC}.tmp`, RELIABILITY_DOC);
}

function readResults(): CheckResult[] {
  if (!existsSync(RESULTS_DIR)) return [];
  const results = readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as CheckResult);
  const rank = (c: string): number => (ORDER.includes(c) ? ORDER.indexOf(c) : ORDER.length);
  return results.sort((a, b) => rank(a.check) - rank(b.check));
}

function runSummary(results: CheckResult[], runMs: number | undefined): string {
  const items = results.flatMap((r) => r.items);
  const failed = items.filter((i) => !i.passed).length;
  const when =
    results
      .map((r) => r.finishedAt)
      .sort()
      .at(-1) ?? new Date().toISOString();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
  return [
    `Last run: ${when.slice(0, 16).replace('T', ' ')} UTC on ${machine}; ` +
      `${results.length} check${results.length === 1 ? '' : 's'} (${results.map((r) => r.check).join(', ')}), ` +
      `${items.length - failed} of ${items.length} tests passed` +
      (runMs === undefined ? '.' : `, ${(runMs / 1000).toFixed(0)} s in all.`),
  ].join('\n');
}

function checkSection(r: CheckResult): string {
  const lines = [`Last run: ${r.finishedAt.slice(0, 16).replace('T', ' ')} UTC.`, ''];
  for (const item of r.items) {
    lines.push(
      `**${item.name}** (${item.passed ? 'passed' : '**failed**'}, ${(item.ms / 1000).toFixed(1)} s). ${item.promise}`,
      '',
      '| measured | last run |',
      '| --- | --- |',
      ...item.measured.map(([label, value]) => `| ${cell(label)} | ${cell(value)} |`),
      '',
    );
  }
  return lines.join('\n');
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function replaceSection(text: string, name: string, markdown: string): string {
  const start = `<!-- soak:${name} -->`;
  const end = `<!-- /soak:${name} -->`;
  const block = `${start}\n\n${markdown.trim()}\n\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  return i >= 0 && j > i
    ? text.slice(0, i) + block + text.slice(j + end.length)
    : `${text.trimEnd()}\n\n${block}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeReliabilityReport();
}
