import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bundledLicenceFiles,
  licenceText,
  packageLicenceText,
  readmeLicenceSection,
} from '../../scripts/licence-text.js';

const MIT_BODY =
  'Copyright (c) 2014 Someone\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software.';

describe('licence text of a bundled package', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const pkg = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'lic-'));
    dirs.push(dir);
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };

  it('prefers the licence file', () => {
    expect(licenceText(pkg({ 'LICENSE.md': 'the file', 'README.md': `## License\n\n${MIT_BODY}` }))).toBe(
      'the file',
    );
  });

  it("falls back to the README's License section, up to the next heading of its level", () => {
    const readme = `# pkg\n\ntext\n\n## license\n\n${MIT_BODY}\n\n### detail\nmore\n\n## Other\nnot this`;
    expect(licenceText(pkg({ 'README.md': readme }))).toBe(`${MIT_BODY}\n\n### detail\nmore`);
  });

  it('refuses a section that only names the licence, and a package with nothing', () => {
    expect(readmeLicenceSection('## License\n\nMIT\n')).toBeUndefined();
    expect(licenceText(pkg({ 'README.md': '# pkg\nno licence here' }))).toBeUndefined();
    expect(licenceText(pkg({ 'index.js': '' }))).toBeUndefined();
  });

  it('finds the real texts of pg-types and pgpass, which ship no licence file', () => {
    for (const name of ['pg-types', 'pgpass']) {
      const text = licenceText(join(process.cwd(), 'node_modules', name));
      expect(text, name).toMatch(/Permission is hereby granted/);
    }
  });

  it('lists the licence of libopus inside opusscript, and stops when a listed file is missing', () => {
    const [file] = bundledLicenceFiles('opusscript', join(process.cwd(), 'node_modules', 'opusscript'));
    expect(readFileSync(file!, 'utf8')).toMatch(/Redistribution and use in source and binary forms/);
    expect(() => bundledLicenceFiles('opusscript', pkg({ 'index.js': '' }))).toThrow(
      /COPYING\.libopus is missing/,
    );
    expect(bundledLicenceFiles('pg', pkg({}))).toEqual([]);
  });

  it("gives a platform package that ships no licence its main package's (koffi, node-datachannel)", () => {
    const modules = join(process.cwd(), 'node_modules');
    for (const [name, main] of [
      ['@koromix/koffi-linux-x64', 'koffi'],
      ['@node-datachannel/linux-x64-gnu', 'node-datachannel'],
    ] as const) {
      expect(licenceText(join(modules, name)), name).toBeUndefined();
      expect(packageLicenceText(name, join(modules, name)), name).toBe(licenceText(join(modules, main)));
    }
    expect(packageLicenceText('@other/thing', pkg({}))).toBeUndefined();
  });
});
