/**
 * The licence text a bundled npm package ships: its LICENSE/COPYING file, or, for packages that put the
 * text only in their README (pg-types, pgpass), the README's "License" section. Both packagers use it, so
 * the .deb and the MSI carry the same notices; a package with neither stops the build.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const LICENCE_FILE = /^(licen[cs]e|copying)([.-].*)?$/i;
const README_FILE = /^readme(\.(md|markdown|txt))?$/i;

/** The names of the licence files in `dir` (may be empty). */
export function licenceFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => LICENCE_FILE.test(f));
}

/** The "License" section of a Markdown README: the heading's body up to the next heading of its level or above. */
export function readmeLicenceSection(markdown: string): string | undefined {
  const lines = markdown.split(/\r?\n/);
  const start = lines.findIndex((l) => /^#{1,6}\s+licen[cs]e\s*:?\s*$/i.test(l.trim()));
  if (start < 0) return undefined;
  const level = /^#+/.exec(lines[start]!.trim())![0].length;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const m = /^(#+)\s/.exec(lines[i]!);
    if (m && m[1]!.length <= level) {
      end = i;
      break;
    }
  }
  const body = lines
    .slice(start + 1, end)
    .join('\n')
    .trim();
  // A section that only points elsewhere ("MIT", "see LICENSE") is not a licence text.
  return /permission|redistribution|licensed under|copyright/i.test(body) && body.length > 80
    ? body
    : undefined;
}

/** The licence text to bundle for the package in `dir`, or undefined when it ships none. */
export function licenceText(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const file = licenceFiles(dir)[0];
  if (file) return readFileSync(join(dir, file), 'utf8').trim();
  const readme = readdirSync(dir).find((f) => README_FILE.test(f));
  if (!readme || !existsSync(join(dir, readme))) return undefined;
  return readmeLicenceSection(readFileSync(join(dir, readme), 'utf8'));
}

/**
 * Licence files of code a package bundles beside its own (a WebAssembly build of a C library…),
 * which sit below the package's root and must travel with it too.
 */
const BUNDLED_LICENCES: Record<string, string[]> = {
  opusscript: ['build/COPYING.libopus'],
};

/** The paths of the bundled code's licence files of package `name` in `dir` (absent ones stop the build). */
export function bundledLicenceFiles(name: string, dir: string): string[] {
  return (BUNDLED_LICENCES[name] ?? []).map((rel) => {
    const path = join(dir, rel);
    if (!existsSync(path)) throw new Error(`${name}: ${rel} is missing: its licence must be bundled`);
    return path;
  });
}

/** A platform package ships its project's binary without a licence file: its main package's applies. */
function mainPackageOf(name: string): string | undefined {
  if (name.startsWith('@koromix/koffi-')) return 'koffi';
  // @node-datachannel/linux-x64-gnu → node-datachannel, @msgpackr-extract/… → msgpackr-extract.
  const scope = /^@([^/]+)\//.exec(name);
  return scope?.[1];
}

/**
 * The licence text of package `name` installed at `dir` (…/node_modules/[@scope/]name): its own, or
 * for a platform package its main package's, found beside it in the same node_modules.
 */
export function packageLicenceText(name: string, dir: string): string | undefined {
  const own = licenceText(dir);
  if (own) return own;
  const main = mainPackageOf(name);
  if (!main) return undefined;
  const modules = name.startsWith('@') ? dirname(dirname(dir)) : dirname(dir);
  return licenceText(join(modules, main));
}
