import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * Where the API keeps its store and audit log: `--data-dir`, else `$PORTHOLE_API_DATA`, else
 * `$XDG_DATA_HOME/porthole-api`, else `~/.local/share/porthole-api` (the XDG default; a relative
 * XDG_DATA_HOME is ignored, as the spec asks).
 */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.PORTHOLE_API_DATA) return resolve(env.PORTHOLE_API_DATA);
  const xdg = env.XDG_DATA_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'share');
  return join(base, 'porthole-api');
}

/**
 * The PostgreSQL store's URL: `--database`, else `$PORTHOLE_API_DATABASE`, else none (the JSON store in
 * the data dir). The environment keeps a password out of the command line, which every local user
 * can read in /proc; better still, keep it in ~/.pgpass or PGPASSWORD (read by the client).
 */
export function resolveDatabaseUrl(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return flag || env.PORTHOLE_API_DATABASE || undefined;
}
