/**
 * Which PulseAudio server (PulseAudio itself, or PipeWire's pipewire-pulse) is the session user's, and
 * as whom to connect to it.
 *
 * A helper started by the service gets no XDG_RUNTIME_DIR (x11-helper-spawner.ts passes only the
 * display, the user's name and home, and PORTHOLE_* variables), so the server is, in order:
 * `PORTHOLE_PULSE_SERVER` (an explicit choice, passed through by the service), `PULSE_SERVER`,
 * `$XDG_RUNTIME_DIR/pulse/native`, then `/run/user/<uid>/pulse/native` for the session user.
 *
 * A helper kept as root (`keepRoot`) must not connect as root: the user's server admits a client of its
 * own uid (SO_PEERCRED) or one presenting the user's cookie, and refuses root ("Access denied", seen
 * here). The capture program is then started as the session user, whom the service names in USER.
 */
export interface PulseTarget {
  /** A PulseAudio server string (`unix:/path`, `tcp:host:port`). */
  server: string;
  /** Start the capture program as this user (a root helper); absent: as the helper itself. */
  runAs?: { uid: number; gid: number; home?: string };
}

export interface PulseLookup {
  env: NodeJS.ProcessEnv;
  /** The helper's uid (undefined on Windows). */
  uid: number | undefined;
  /** Finds a user by name (getent passwd); used only when the helper is root. */
  lookUpUser(name: string): Promise<{ uid: number; gid: number; home: string } | undefined>;
}

/** Server strings are short; anything else in the variable is not one. */
const SERVER_PATTERN = /^(unix:\/[^\0\s]{1,4000}|tcp:[^\0\s]{1,300}|\/[^\0\s]{1,4000})$/;

function validServer(text: string | undefined): string | undefined {
  const value = text?.trim();
  if (!value || !SERVER_PATTERN.test(value)) return undefined;
  return value.startsWith('/') ? `unix:${value}` : value;
}

/** Where the session user's server is; throws with the reason when it cannot be known. */
export async function findPulseTarget(lookup: PulseLookup): Promise<PulseTarget> {
  const { env, uid } = lookup;
  let runAs: PulseTarget['runAs'];
  let userUid = uid;
  if (uid === 0 && env.USER && env.USER !== 'root') {
    const user = await lookup.lookUpUser(env.USER);
    if (!user) throw new Error(`the session user ${env.USER} is not in the user database`);
    runAs = { uid: user.uid, gid: user.gid, home: user.home };
    userUid = user.uid;
  }
  const explicit = validServer(env.PORTHOLE_PULSE_SERVER) ?? validServer(env.PULSE_SERVER);
  if (explicit) return { server: explicit, ...(runAs ? { runAs } : {}) };
  // XDG_RUNTIME_DIR is the helper's own: it says where the user's server is only when the helper is
  // that user.
  const runtimeDir = runAs ? undefined : env.XDG_RUNTIME_DIR;
  if (runtimeDir && runtimeDir.startsWith('/'))
    return { server: `unix:${runtimeDir}/pulse/native`, ...(runAs ? { runAs } : {}) };
  if (userUid === undefined)
    throw new Error('no PulseAudio server: PULSE_SERVER and XDG_RUNTIME_DIR are unset');
  return { server: `unix:/run/user/${userUid}/pulse/native`, ...(runAs ? { runAs } : {}) };
}
