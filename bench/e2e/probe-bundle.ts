/** Bundles page-probe.ts (and what it imports) into one script for `page.addInitScript`. */
import { build } from 'esbuild';

export async function probeScript(): Promise<string> {
  const out = await build({
    entryPoints: [new URL('./page-probe.ts', import.meta.url).pathname],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error('esbuild produced no probe script');
  return file.text;
}
