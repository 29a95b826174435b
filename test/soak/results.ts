/**
 * What each soak check measured, for design/RELIABILITY.md. A check file records each test's promise
 * and numbers as it goes; `write()` (its afterAll) puts them in test-results/soak/<check>.json, and
 * the suite's teardown (global-setup.ts) turns every file there into the check's section of the doc.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('../../test-results/soak/', import.meta.url));

export interface ItemResult {
  name: string;
  promise: string;
  /** Label → value, in the order measured. */
  measured: [string, string][];
  passed: boolean;
  ms: number;
}

export interface CheckResult {
  check: string;
  title: string;
  items: ItemResult[];
  finishedAt: string;
}

export interface ItemRecorder {
  /** Records one number (or a short text) under a label; a later value for the label replaces it. */
  set(label: string, value: string | number): void;
  /** Marks the item passed: call it as the test's last statement, so a failed assertion leaves it failed. */
  passed(): void;
}

export interface CheckRecorder {
  item(name: string, promise: string): ItemRecorder;
  write(): void;
}

export function checkRecorder(check: string, title: string): CheckRecorder {
  const items: ItemResult[] = [];
  return {
    item(name, promise) {
      const t0 = performance.now();
      const item: ItemResult = { name, promise, measured: [], passed: false, ms: 0 };
      items.push(item);
      return {
        set(label, value) {
          const text = typeof value === 'number' ? formatNumber(value) : value;
          const i = item.measured.findIndex(([l]) => l === label);
          if (i >= 0) item.measured[i] = [label, text];
          else item.measured.push([label, text]);
          item.ms = Math.round(performance.now() - t0);
        },
        passed() {
          item.passed = true;
          item.ms = Math.round(performance.now() - t0);
        },
      };
    },
    write() {
      mkdirSync(RESULTS_DIR, { recursive: true });
      const result: CheckResult = { check, title, items, finishedAt: new Date().toISOString() };
      writeFileSync(join(RESULTS_DIR, `${check}.json`), `${JSON.stringify(result, null, 2)}\n`);
    },
  };
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 1);
}

/** The time now when `cond` holds (for `waitFor`, which waits for a truthy value). */
export function nowIf(cond: boolean): number | undefined {
  return cond ? Date.now() : undefined;
}

/** Median and maximum of a sample, for delays. */
export function medianMax(values: number[]): string {
  if (values.length === 0) return '–';
  const s = [...values].sort((a, b) => a - b);
  const median = s[Math.floor((s.length - 1) / 2)] as number;
  return `${Math.round(median)} / ${Math.round(s[s.length - 1] as number)}`;
}
