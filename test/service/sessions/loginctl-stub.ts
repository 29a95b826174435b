import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A stand-in `loginctl` executable that prints recorded output, for the machines (this one, CI) where
 * systemd-logind does not run. It answers `list-sessions` with `listOutput` and `show-session` with
 * `showOutput`, and records its arguments in `argsLog`.
 */
export async function writeLoginctlStub(
  listOutput: string,
  showOutput: string,
): Promise<{
  path: string;
  argsLog: string;
  /** Changes what the next calls print. */
  setOutput: (list: string, show: string) => Promise<void>;
  dispose: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'porthole-loginctl-'));
  await writeFile(join(dir, 'list'), listOutput);
  await writeFile(join(dir, 'show'), showOutput);
  const path = join(dir, 'loginctl');
  const argsLog = join(dir, 'args');
  const script = [
    '#!/bin/sh',
    `echo "$*" >> '${argsLog}'`,
    'case "$1" in',
    `  list-sessions) cat '${join(dir, 'list')}' ;;`,
    `  show-session) cat '${join(dir, 'show')}' ;;`,
    '  *) echo "unknown verb" >&2; exit 1 ;;',
    'esac',
    '',
  ].join('\n');
  await writeFile(path, script);
  await chmod(path, 0o755);
  return {
    path,
    argsLog,
    setOutput: async (list, show) => {
      await writeFile(join(dir, 'list'), list);
      await writeFile(join(dir, 'show'), show);
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
