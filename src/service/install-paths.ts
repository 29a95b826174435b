/**
 * Where an installed agent keeps its config and device token, on each platform. The packages (the
 * MSI, the .deb), `porthole service enroll` and `porthole service` all take them from here:
 *
 * | platform | config                                | device token                          |
 * | -------- | ------------------------------------- | ------------------------------------- |
 * | Windows  | `%ProgramData%\porthole\porthole.json` | `%ProgramData%\porthole\device-token` |
 * | Linux    | `/etc/porthole/porthole.json`          | `/etc/porthole/device-token`          |
 *
 * On Windows the folder is the service's data folder, locked to SYSTEM and Administrators
 * (service/windows/data-dir.ts); on Linux the token file is root's, mode 0600.
 */
import { existsSync } from 'node:fs';
import { posix, win32 } from 'node:path';

export const CONFIG_FILE_NAME = 'porthole.json';
export const TOKEN_FILE_NAME = 'device-token';

/** The folder holding both: `%ProgramData%\porthole` on Windows, `/etc/porthole` elsewhere. */
export function defaultInstallDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (platform !== 'win32') return '/etc/porthole';
  const base = env.ProgramData ?? env.PROGRAMDATA ?? env.ALLUSERSPROFILE ?? 'C:\\ProgramData';
  return win32.join(base, 'porthole');
}

export function defaultConfigPath(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return (platform === 'win32' ? win32 : posix).join(defaultInstallDir(platform, env), CONFIG_FILE_NAME);
}

export function defaultTokenPath(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return (platform === 'win32' ? win32 : posix).join(defaultInstallDir(platform, env), TOKEN_FILE_NAME);
}

/**
 * The config file `porthole service` reads: `--config`, else `PORTHOLE_CONFIG`, else the default path
 * when that file exists (an installed, enrolled agent needs no flags), else none.
 */
export function serviceConfigFile(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  exists: (path: string) => boolean = existsSync,
): string | undefined {
  if (flag !== undefined) return flag;
  if (env.PORTHOLE_CONFIG) return env.PORTHOLE_CONFIG;
  const path = defaultConfigPath(platform, env);
  return exists(path) ? path : undefined;
}
