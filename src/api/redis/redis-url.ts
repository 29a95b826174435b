/** `--redis` URLs: checked before use, and shown in logs without their password. */
export function checkRedisUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('--redis must be a URL: redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss://…');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`--redis must start with redis:// or rediss:// (got ${u.protocol}//)`);
  }
  if (!u.hostname) throw new Error('--redis needs a host');
  if (u.pathname && u.pathname !== '/' && !/^\/\d{1,2}$/.test(u.pathname)) {
    throw new Error('--redis: the path is a database number (/0 … /15)');
  }
}

export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${u.username}@` : ''}${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * `--redis`, else `$PORTHOLE_REDIS_URL`, else none (one instance). The environment keeps a Redis
 * password off the command line, which every local user can read in /proc.
 */
export function resolveRedisUrl(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return flag || env.PORTHOLE_REDIS_URL || undefined;
}
