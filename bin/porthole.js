#!/usr/bin/env node
// Entry point of the `porthole` command. A built tree (npm run build) runs from dist/; a source
// checkout without a build runs the TypeScript directly through tsx, so a fresh clone works at once.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'src', 'cli', 'main.js');

if (existsSync(built) && process.env.PORTHOLE_FROM_SOURCE !== '1') {
  const { main } = await import(pathToFileURL(built).href);
  process.exitCode = await main(process.argv.slice(2));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
  process.exitCode = await main(process.argv.slice(2));
}
