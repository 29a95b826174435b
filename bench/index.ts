/**
 * `npm run bench [name...] [-- --flag...]`: runs every `bench/<name>.bench.ts` (or the named ones). Each
 * exports `run(flags): Promise<{ title: string; markdown: string; dry?: boolean }>`; flags are the
 * arguments from the first one starting with `-` on. Its markdown is printed and written to its own
 * section of design/BENCHMARKS.md (not with BENCH_DRY=1, nor when the bench says `dry`: trial runs
 * print only).
 */
import { readdir } from 'node:fs/promises';
import { writeSection } from './report.js';

interface BenchModule {
  run(flags: string[]): Promise<{ title: string; markdown: string; dry?: boolean }>;
}

const dir = new URL('.', import.meta.url);
const args = process.argv.slice(2);
const firstFlag = args.findIndex((a) => a.startsWith('-'));
const wanted = firstFlag < 0 ? args : args.slice(0, firstFlag);
const flags = firstFlag < 0 ? [] : args.slice(firstFlag);
const names = (await readdir(dir))
  .filter((f) => f.endsWith('.bench.ts') || f.endsWith('.bench.js'))
  .map((f) => f.replace(/\.bench\.[jt]s$/, ''))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort();

if (names.length === 0) {
  console.error(`bench: nothing to run${wanted.length ? ` (no bench named ${wanted.join(', ')})` : ''}`);
  process.exit(2);
}
for (const name of names) {
  console.log(`\n## bench ${name}: running…`);
  const mod = (await import(new URL(`./${name}.bench.ts`, dir).href)) as BenchModule;
  const { title, markdown, dry } = await mod.run(flags);
  console.log(markdown);
  if (process.env.BENCH_DRY === '1' || dry) continue;
  await writeSection(name, `## ${title}\n\n${markdown}`);
  console.log(`bench ${name}: written to design/BENCHMARKS.md`);
}
