/**
 * Bundles the browser viewer: src/viewer/main.ts → dist/viewer/viewer.js (one ESM file, minified,
 * with a source map) plus index.html and viewer.css. The API serves dist/viewer/ at `/`; the Tauri
 * shell loads the same directory.
 */
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const VIEWER_SOURCE = join(root, 'src/viewer');
export const VIEWER_OUT = join(root, 'dist/viewer');

export async function buildViewer(outdir = VIEWER_OUT): Promise<void> {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: [join(VIEWER_SOURCE, 'main.ts')],
    outfile: join(outdir, 'viewer.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'safari15'],
    minify: true,
    sourcemap: true,
    tsconfig: join(VIEWER_SOURCE, 'tsconfig.json'),
    legalComments: 'none',
    logLevel: 'warning',
  });
  await Promise.all(
    ['index.html', 'viewer.css'].map((f) => copyFile(join(VIEWER_SOURCE, f), join(outdir, f))),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildViewer(process.argv[2] ? resolve(process.argv[2]) : VIEWER_OUT);
  console.log(`viewer built in ${process.argv[2] ?? 'dist/viewer'}`);
}
