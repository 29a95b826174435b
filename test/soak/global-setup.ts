/**
 * Runs once around the soak suite: clears the previous run's results, and afterwards writes what
 * this run measured into design/RELIABILITY.md (reliability-report.ts).
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeReliabilityReport } from './reliability-report.js';
import { RESULTS_DIR } from './results.js';

let startedAt = 0;

export function setup(): void {
  startedAt = Date.now();
  mkdirSync(RESULTS_DIR, { recursive: true });
  for (const f of readdirSync(RESULTS_DIR)) if (f.endsWith('.json')) rmSync(join(RESULTS_DIR, f));
}

export async function teardown(): Promise<void> {
  await writeReliabilityReport({ runMs: Date.now() - startedAt });
}
