/**
 * Windows: what `porthole service enroll` does so that only SYSTEM and Administrators can read the
 * device token (and change the config the LocalSystem service trusts).
 *
 * - When it writes into porthole's data folder (%ProgramData%\porthole, the default), that folder is
 *   first created or checked and repaired exactly as `porthole service install` does (data-dir.ts): a
 *   protected SYSTEM + Administrators DACL, refused when someone else owns it.
 * - Each file it writes gets FILE_SDDL, protected, while it is still empty (enrollment-files.ts sets it
 *   on the temp file before the token is written, then renames it into place; a rename keeps the
 *   file's own security descriptor), so the token never sits in a file anyone else may read, also
 *   when --config points somewhere else.
 *
 * Wine keeps no DACL (file-security.ts), so under Wine this proves only that the calls are made; the
 * read-back is a step of scripts/windows-vm-check.ps1.
 */
import { resolve } from 'node:path';
import type { Logger } from '../../log/logger.js';
import { setProtectedFileDacl } from '../../native/win32/file-security.js';
import { portholeDataDir, secureDataDir, win32DataDirApi, type DataDirOutcome } from './data-dir.js';

/** Protected (nothing inherited); SYSTEM and Administrators: full control. No other entry. */
export const ENROLLMENT_FILE_SDDL = 'D:P(A;;FA;;;SY)(A;;FA;;;BA)';

/** Locks one file to SYSTEM and Administrators (SetNamedSecurityInfoW; needs WRITE_DAC, the owner's). */
export function protectEnrollmentFile(path: string): void {
  setProtectedFileDacl(path, ENROLLMENT_FILE_SDDL);
}

/**
 * Secures %ProgramData%\porthole when `dir` is that folder (creating it); any other folder is left as
 * it is (its files get ENROLLMENT_FILE_SDDL each). Throws DataDirError when the folder cannot be trusted.
 */
export function secureEnrollmentFolder(
  dir: string,
  log?: Pick<Logger, 'info' | 'warn'>,
): DataDirOutcome | 'elsewhere' {
  const dataDir = portholeDataDir();
  if (resolve(dir).toLowerCase() !== resolve(dataDir).toLowerCase()) return 'elsewhere';
  return secureDataDir(dataDir, win32DataDirApi, log);
}
