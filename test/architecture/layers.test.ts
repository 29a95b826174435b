/**
 * The layering design/ARCHITECTURE.md states, checked on every run: no import cycles in src/, and no
 * import that reaches a layer the importing layer may not use. A failure names the files.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, importEdges, importSpecifiers, sourceFiles, type ImportEdge } from './import-graph.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * What each top-level folder of src/ may import besides itself (design/ARCHITECTURE.md, "Layers").
 * `service` and `helper` never meet except in `protocol` and `ipc`; only `cli` and `demo` compose.
 */
const BASE = ['errors', 'log', 'time'];
export const ALLOWED: Record<string, readonly string[]> = {
  errors: [],
  time: [],
  log: ['errors', 'time'],
  protocol: ['errors'],
  native: BASE,
  ipc: BASE,
  service: [...BASE, 'protocol', 'ipc', 'native'],
  helper: [...BASE, 'protocol', 'ipc', 'native'],
  api: [...BASE, 'protocol'],
  viewer: ['errors', 'protocol'],
  demo: [...BASE, 'protocol', 'api'],
  cli: [...BASE, 'protocol', 'ipc', 'native', 'service', 'helper', 'api', 'demo'],
};

const layerOf = (file: string): string => file.split('/')[1] ?? '';

export function layerViolations(edges: readonly ImportEdge[]): string[] {
  return edges
    .filter((e) => layerOf(e.from) !== layerOf(e.to))
    .filter((e) => !(ALLOWED[layerOf(e.from)] ?? []).includes(layerOf(e.to)))
    .map((e) => `${e.from} → ${e.to}`);
}

/** A test double in src/ (`fake-*.ts`) is reached only through its folder's factory (index.ts). */
export function fakeImportViolations(edges: readonly ImportEdge[]): string[] {
  return edges
    .filter((e) => path.posix.basename(e.to).startsWith('fake-'))
    .filter(
      (e) =>
        !(
          path.posix.basename(e.from) === 'index.ts' &&
          path.posix.dirname(e.from) === path.posix.dirname(e.to)
        ),
    )
    .map((e) => `${e.from} → ${e.to}`);
}

describe('src/ import graph', () => {
  const files = sourceFiles(ROOT, 'src', ['tauri']);
  const edges = importEdges(ROOT, files);

  it('reads the whole tree (every layer present, edges found)', () => {
    expect(new Set(files.map(layerOf))).toEqual(new Set(Object.keys(ALLOWED)));
    expect(edges.length).toBeGreaterThan(300);
  });

  it('has no import cycle', () => {
    expect(importCycles(files, edges)).toEqual([]);
  });

  it('imports across layers only in the allowed directions', () => {
    expect(layerViolations(edges)).toEqual([]);
  });

  it('reaches test doubles only through their factories', () => {
    expect(fakeImportViolations(edges)).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('find a two-file cycle, a three-file cycle and a self-import', () => {
    const files = [
      'src/a/x.ts',
      'src/a/y.ts',
      'src/b/p.ts',
      'src/b/q.ts',
      'src/b/r.ts',
      'src/c/s.ts',
      'src/c/t.ts',
    ];
    const e = (from: string, to: string): ImportEdge => ({ from, to });
    const cycles = importCycles(files, [
      e('src/a/x.ts', 'src/a/y.ts'),
      e('src/a/y.ts', 'src/a/x.ts'),
      e('src/b/p.ts', 'src/b/q.ts'),
      e('src/b/q.ts', 'src/b/r.ts'),
      e('src/b/r.ts', 'src/b/p.ts'),
      e('src/c/s.ts', 'src/c/s.ts'),
      e('src/c/t.ts', 'src/a/x.ts'),
    ]);
    expect(cycles).toEqual(
      expect.arrayContaining([
        ['src/a/x.ts', 'src/a/y.ts'],
        ['src/b/p.ts', 'src/b/q.ts', 'src/b/r.ts'],
        ['src/c/s.ts'],
      ]),
    );
    expect(cycles).toHaveLength(3);
  });

  it('flag service ↔ helper, ipc → protocol and a fake imported outside its factory', () => {
    expect(
      layerViolations([
        { from: 'src/service/broker.ts', to: 'src/helper/helper-main.ts' },
        { from: 'src/helper/helper-main.ts', to: 'src/service/broker.ts' },
        { from: 'src/ipc/channel.ts', to: 'src/protocol/validate.ts' },
        { from: 'src/cli/main.ts', to: 'src/service/broker.ts' },
      ]),
    ).toEqual([
      'src/service/broker.ts → src/helper/helper-main.ts',
      'src/helper/helper-main.ts → src/service/broker.ts',
      'src/ipc/channel.ts → src/protocol/validate.ts',
    ]);
    expect(
      fakeImportViolations([
        { from: 'src/helper/input/index.ts', to: 'src/helper/input/fake-clipboard.ts' },
        { from: 'src/helper/host/default-wiring.ts', to: 'src/helper/input/fake-clipboard.ts' },
      ]),
    ).toEqual(['src/helper/host/default-wiring.ts → src/helper/input/fake-clipboard.ts']);
  });

  it('count every form of import: static, type-only, re-export, dynamic and import types', () => {
    const text = [
      "import a from './a.js';",
      "import type { B } from './b.js';",
      "export { c } from './c.js';",
      "const d = await import('./d.js');",
      "let e: import('./e.js').E;",
      "import 'node:fs';",
    ].join('\n');
    expect(importSpecifiers('x.ts', text)).toEqual([
      './a.js',
      './b.js',
      './c.js',
      './d.js',
      './e.js',
      'node:fs',
    ]);
  });
});
