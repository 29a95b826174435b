/**
 * `porthole service enroll --server URL [--key-file F | --key-file - | PORTHOLE_ENROLL_KEY]
 * [--config FILE] [--token-file FILE] [--force]`: registers this machine with the API using an
 * enrollment key, then writes the device id and the agent URL into the config and the device token into
 * an owner-only file, so `porthole service` (or the installed service) needs no flags.
 *
 * The key is never taken from the command line (process lists, shell history and installer logs show
 * it), and neither the key nor the token is ever printed. Exit codes: 0 enrolled, 1 failed, 2 usage,
 * 3 already enrolled (nothing changed; --force enrolls again as a new device).
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EXIT_FAILURE, EXIT_OK, UsageError, type OptionSpec } from './command.js';
import { PORTHOLE_VERSION } from './version.js';
import { errorMessage } from '../errors/error-text.js';
import { enrollHostname, enrollKey } from '../protocol/enroll.js';
import { defaultConfigPath, TOKEN_FILE_NAME } from '../service/install-paths.js';
import type { requestEnrollment as RequestEnrollment, ServerUrl } from '../service/enroll-client.js';
import type * as EnrollmentFiles from '../service/enrollment-files.js';

export const EXIT_ALREADY_ENROLLED = 3;
const MAX_KEY_BYTES = 4096;
const KEY_ENV = 'PORTHOLE_ENROLL_KEY';

export const SERVICE_ENROLL_OPTIONS: Record<string, OptionSpec> = {
  server: { type: 'string', description: 'enroll: the API (https://HOST[:PORT]); http:// only to loopback' },
  'key-file': {
    type: 'string',
    description: `enroll: file holding the enrollment key, or - for stdin (else env ${KEY_ENV})`,
  },
  force: { type: 'boolean', description: 'enroll: enroll again (as a new device) when already enrolled' },
  // Declared only to refuse it with the reason, instead of a bare "unknown option".
  key: { type: 'string', hidden: true, description: 'refused: the key never goes on the command line' },
};
const ENROLL_ONLY = ['server', 'key-file', 'force', 'key'];

const HELP = [
  'Usage: porthole service enroll --server https://HOST[:PORT] [--key-file FILE | --key-file -]',
  '                               [--config FILE] [--token-file FILE] [--force]',
  '',
  'Registers this machine with the porthole API using an enrollment key (porthole api enroll-key',
  'create), as root or administrator. The device is named after this host name. It writes:',
  `  - the config (--config, env PORTHOLE_CONFIG, default ${defaultConfigPath('linux')} or`,
  `    ${defaultConfigPath('win32', {})}): api.url, api.deviceId and api.tokenFile,`,
  '    creating the file or keeping its other fields;',
  `  - the device token into --token-file (default: ${TOKEN_FILE_NAME} beside the config), readable by`,
  '    its owner only (Linux: mode 0600; Windows: SYSTEM and Administrators).',
  'The service reads them at its next start.',
  '',
  'The key comes from --key-file FILE, from stdin with --key-file -, or from the environment variable',
  `${KEY_ENV}; never from the command line. Neither the key nor the token is printed.`,
  '',
  'Options:',
  '  --server URL        The API, as `porthole api serve` is reached (https; http:// to loopback only)',
  '  --key-file FILE|-   File holding the enrollment key, or - to read it from stdin',
  '  --config FILE       Config file to write (default above)',
  '  --token-file FILE   Where to write the device token (default: device-token beside the config)',
  '  --force             Enroll again when the config already has a device id (a new device; the old',
  '                      one stays on the server until `porthole api device remove ID`)',
  '',
  'Exit codes: 0 enrolled, 1 failed (the message says why), 2 wrong usage, 3 already enrolled.',
  'A server that rate-limits (429) is waited for twice, as long as its Retry-After (up to 2 min).',
].join('\n');

/** Help for `porthole service enroll --help`; undefined for anything else. */
export function enrollHelp(positionals: string[]): string | undefined {
  return positionals[0] === 'enroll' ? HELP : undefined;
}

/** Enroll's flags mean nothing to the other service commands: refuse them there. */
export function checkEnrollOnlyFlags(values: Record<string, unknown>): void {
  for (const flag of ENROLL_ONLY) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} is a flag of 'porthole service enroll'`);
  }
}

const NO_KEY_ON_COMMAND_LINE =
  'the enrollment key is never taken from the command line (process lists and installer logs would ' +
  `show it): put it in a file and give --key-file FILE, pipe it in with --key-file -, or set ${KEY_ENV}`;

export async function runServiceEnroll(extra: string[], values: Record<string, unknown>): Promise<number> {
  // Not echoed: an argument here may well be the key itself.
  if (values.key !== undefined || extra.length > 0) throw new UsageError(NO_KEY_ON_COMMAND_LINE);
  const serverText = values.server as string | undefined;
  if (serverText === undefined) throw new UsageError('missing --server https://HOST[:PORT]');
  const [{ EnrollError, parseServerUrl, requestEnrollment }, files] = await Promise.all([
    import('../service/enroll-client.js'),
    import('../service/enrollment-files.js'),
  ]);
  let server: ServerUrl;
  try {
    server = parseServerUrl(serverText);
  } catch (err) {
    if (err instanceof EnrollError) throw new UsageError(err.message);
    throw err;
  }
  const key = await readKey(values['key-file'] as string | undefined);
  try {
    return await enroll(server, key, values, files, requestEnrollment);
  } catch (err) {
    // One line, for a terminal or an installer log.
    console.error(`porthole service enroll: ${errorMessage(err)}`);
    return EXIT_FAILURE;
  }
}

async function enroll(
  server: ServerUrl,
  key: string,
  values: Record<string, unknown>,
  files: typeof EnrollmentFiles,
  requestEnrollment: typeof RequestEnrollment,
): Promise<number> {
  const configPath = resolve(
    (values.config as string | undefined) ?? process.env.PORTHOLE_CONFIG ?? defaultConfigPath(),
  );
  const config = files.readConfigForEnrollment(configPath);
  const enrolledAs = files.enrolledDeviceId(config);
  if (enrolledAs !== undefined && values.force !== true) {
    console.error(
      `porthole service enroll: already enrolled as device ${enrolledAs} (${configPath}); ` +
        'add --force to enroll again as a new device',
    );
    return EXIT_ALREADY_ENROLLED;
  }
  const tokenPath = resolve(
    (values['token-file'] as string | undefined) ??
      files.configuredTokenFile(config) ??
      join(dirname(configPath), TOKEN_FILE_NAME),
  );

  // Everything that can fail locally fails before the key is spent.
  const protect = await prepareFolders([dirname(configPath), dirname(tokenPath)]);

  const answer = await requestEnrollment({
    server,
    key,
    machine: {
      hostname: machineHostname(),
      os: process.platform,
      arch: process.arch,
      agentVersion: PORTHOLE_VERSION,
    },
    onRetry: (waitMs, attempt) =>
      console.error(
        `porthole service enroll: the server is rate-limiting enrollments; retrying in ${Math.ceil(waitMs / 1000)} s (retry ${attempt} of 2)`,
      ),
  });
  try {
    files.writeEnrollment({
      configPath,
      tokenPath,
      config,
      agentUrl: server.agentUrl,
      deviceId: answer.deviceId,
      token: answer.deviceToken,
      ...(protect ? { protect } : {}),
    });
  } catch (err) {
    console.error(
      `porthole service enroll: enrolled as device ${answer.deviceId}, but ${errorMessage(err)}; ` +
        `remove that device on the server (porthole api device remove ${answer.deviceId}) and enroll again`,
    );
    return EXIT_FAILURE;
  }
  console.log(
    [
      `Enrolled as device ${answer.deviceId} ('${answer.name}') at ${server.base}.`,
      `  config: ${configPath}`,
      `  token:  ${tokenPath} (${process.platform === 'win32' ? 'SYSTEM and Administrators only' : 'mode 0600'})`,
      'The service connects with them at its next start.',
    ].join('\n'),
  );
  return EXIT_OK;
}

/** The key from --key-file (a file, or - for stdin) or the environment; a UsageError when there is none. */
async function readKey(keyFile: string | undefined): Promise<string> {
  let text: string;
  let from: string;
  if (keyFile === '-') {
    if (process.stdin.isTTY) {
      throw new UsageError('--key-file - reads the key from stdin, which is a terminal here: pipe it in');
    }
    text = await readStdin();
    from = 'stdin';
  } else if (keyFile !== undefined) {
    text = readKeyFile(keyFile);
    from = keyFile;
  } else if (process.env[KEY_ENV]) {
    text = process.env[KEY_ENV] ?? '';
    from = KEY_ENV;
  } else {
    throw new UsageError(`no enrollment key: give --key-file FILE, --key-file - (stdin), or set ${KEY_ENV}`);
  }
  const key = text.trim();
  try {
    return enrollKey(key, 'key');
  } catch {
    // The reason, never the content.
    throw new UsageError(
      key === ''
        ? `the enrollment key from ${from} is empty`
        : `what ${from} holds is not an enrollment key (${key.length} characters; a key is pek_ and 43 letters, digits, - and _)`,
    );
  }
}

function readKeyFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new UsageError(`cannot read --key-file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    if (fstatSync(fd).size > MAX_KEY_BYTES)
      throw new UsageError(`--key-file ${path} is too large to hold a key`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function readStdin(): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    process.stdin.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_KEY_BYTES) {
        process.stdin.destroy();
        reject(new UsageError('stdin holds too much to be an enrollment key'));
        return;
      }
      chunks.push(chunk);
    });
    process.stdin.once('end', () => resolvePromise(Buffer.concat(chunks).toString('utf8')));
    process.stdin.once('error', reject);
  });
}

/** This machine's name as the OS reports it, within what the API accepts. */
function machineHostname(): string {
  const name = [...hostname().replace(/[\p{Cc}\p{Cf}]/gu, '')].slice(0, 253).join('').trim();
  try {
    return enrollHostname(name, 'hostname');
  } catch {
    return 'unnamed';
  }
}

/**
 * Makes sure the files can be written before the key is spent: creates the folders, and on Windows
 * secures porthole's data folder; then creates and removes a probe file in each. Returns Windows'
 * per-file DACL hook.
 */
async function prepareFolders(dirs: string[]): Promise<((path: string) => void) | undefined> {
  let protect: ((path: string) => void) | undefined;
  if (process.platform === 'win32') {
    const sec = await import('../service/windows/enrollment-security.js');
    for (const dir of new Set(dirs)) sec.secureEnrollmentFolder(dir);
    protect = sec.protectEnrollmentFile;
  }
  for (const dir of new Set(dirs)) {
    const probe = join(dir, `.porthole-enroll-${randomBytes(4).toString('hex')}`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      closeSync(openSync(probe, 'wx', 0o600));
      unlinkSync(probe);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const hint = code === 'EACCES' || code === 'EPERM' ? ': run as root (Windows: as administrator)' : '';
      throw new Error(`cannot write into ${dir} (${code ?? errorMessage(err)})${hint}`, { cause: err });
    }
  }
  return protect;
}
