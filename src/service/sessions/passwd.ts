import { readFile } from 'node:fs/promises';

/** One account from /etc/passwd: the fields session detection needs. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/**
 * Parses passwd(5) text. Lines that are blank, comments, NIS `+`/`-` inclusions or malformed (wrong
 * field count, non-numeric ids) are skipped rather than trusted.
 */
export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const fields = line.split(':');
    if (fields.length !== 7) continue;
    const [name, , uidText, gidText, , home] = fields as [string, string, string, string, string, string];
    if (name === '' || !/^\d+$/.test(uidText) || !/^\d+$/.test(gidText)) continue;
    entries.push({ name, uid: Number(uidText), gid: Number(gidText), home });
  }
  return entries;
}

/** Accounts by uid and by name. The first entry wins, as it does for getpwuid(3). */
export class PasswdTable {
  readonly #byUid = new Map<number, PasswdEntry>();
  readonly #byName = new Map<string, PasswdEntry>();

  constructor(entries: readonly PasswdEntry[]) {
    for (const e of entries) {
      if (!this.#byUid.has(e.uid)) this.#byUid.set(e.uid, e);
      if (!this.#byName.has(e.name)) this.#byName.set(e.name, e);
    }
  }

  byUid(uid: number): PasswdEntry | undefined {
    return this.#byUid.get(uid);
  }

  byName(name: string): PasswdEntry | undefined {
    return this.#byName.get(name);
  }
}

/**
 * Reads the local account table. Accounts only known to NSS (LDAP, sssd) are not in it; callers fall
 * back to the numeric uid for those. A missing file gives an empty table.
 */
export async function readPasswd(path = '/etc/passwd'): Promise<PasswdTable> {
  try {
    return new PasswdTable(parsePasswd(await readFile(path, 'utf8')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new PasswdTable([]);
    throw err;
  }
}
