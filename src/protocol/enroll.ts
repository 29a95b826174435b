/**
 * Device enrollment (`POST /api/enroll`): what an agent sends with an enrollment key, and what the API
 * answers. Both cross a trust boundary, each way, so both sides validate with these guards.
 */
import { object, str } from './validate.js';

/** No control or format characters (newlines, bidi overrides) in anything that ends up in a name or log. */
const PRINTABLE = /^[^\p{Cc}\p{Cf}]+$/u;

/** The machine's host name as the OS reports it (a DNS FQDN is at most 253 characters). */
export const enrollHostname = str({ min: 1, max: 253, pattern: PRINTABLE });
/** `process.platform` / `process.arch` values: short lower-case words. */
export const enrollPlatformWord = str({ min: 1, max: 32, pattern: /^[a-z0-9_]+$/ });
/** The agent's version (`0.1.0`, `1.2.0-rc.1+build.5`). */
export const enrollAgentVersion = str({ min: 1, max: 64, pattern: /^[0-9A-Za-z.+-]+$/ });
/** An enrollment key as presented (generated keys are `pek_` and 43 base64url characters). */
export const enrollKey = str({ min: 16, max: 512, pattern: /^[A-Za-z0-9._~+/=-]+$/ });

export const enrollRequest = object({
  key: enrollKey,
  hostname: enrollHostname,
  os: enrollPlatformWord,
  arch: enrollPlatformWord,
  agentVersion: enrollAgentVersion,
});
export type EnrollRequest = ReturnType<typeof enrollRequest>;

export const enrollResponse = object(
  {
    deviceId: str({ min: 1, max: 128, pattern: /^[A-Za-z0-9._:-]+$/ }),
    deviceToken: str({ min: 16, max: 512, pattern: /^[A-Za-z0-9._~+/=-]+$/ }),
    agentUrl: str({ max: 2048, pattern: /^wss?:\/\/\S+$/ }),
    name: str({ min: 1, max: 128, pattern: PRINTABLE }),
  },
  // A newer API may say more; the agent needs only these.
  { allowExtra: true },
);
export type EnrollResponse = ReturnType<typeof enrollResponse>;

/**
 * The 401 codes of `POST /api/enroll`, one per reason the key is refused. Keys are 256-bit random
 * values, so telling "used up" from "unknown" reveals nothing a guesser could use, and saves the
 * administrator a trip to the server's logs.
 */
export const ENROLL_KEY_CODES = [
  'enroll_key_invalid',
  'enroll_key_expired',
  'enroll_key_used_up',
  'enroll_key_revoked',
] as const;
export type EnrollKeyCode = (typeof ENROLL_KEY_CODES)[number];
