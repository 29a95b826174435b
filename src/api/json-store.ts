/**
 * The embedded store (the default): devices, viewer tokens and enrollment keys in one JSON file,
 * `store.json` in the data dir.
 *
 * The CLI (`porthole api device add`, `token issue`) and a running server share the file, so every
 * change is read-modify-write under a lock file, and the server re-reads the file whenever it changed
 * on disk (every write is a rename, so the inode tells). Writes are atomic (temp file, fsync, rename),
 * the file is mode 0600, and only SHA-256 hashes of tokens are kept. The work is synchronous inside
 * (one process's critical section is a few milliseconds); the methods are async to share the
 * ApiStore interface with the PostgreSQL store.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  fchmodSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { arrayOf, bool, int, object, optional, str, ProtocolError } from '../protocol/validate.js';
import { hashMatches, hashToken, tokenMatches } from './tokens.js';
import {
  ENROLL_KEY_ID_PATTERN,
  MAX_ENROLL_KEY_USES,
  newEnrollKey,
  pruneEnrollKeys,
  spendEnrollKey,
  uniqueDeviceName,
  type EnrollKeyRecord,
} from './enroll-keys.js';
import { enrollAgentVersion, enrollHostname, enrollPlatformWord } from '../protocol/enroll.js';
import { errorMessage } from '../errors/error-text.js';
import {
  DEVICE_ID_PATTERN,
  deviceName,
  StoreError,
  newDevice,
  newViewerToken,
  tokenName,
  viewerTokenExpired,
  viewerTokenKind,
  type ApiStore,
  type DeviceRecord,
  type EnrollingMachine,
  type ViewerTokenOptions,
  type ViewerTokenRecord,
} from './store.js';

interface StoreData {
  version: 1;
  devices: DeviceRecord[];
  viewerTokens: ViewerTokenRecord[];
  /** Absent in stores written before enrollment existed. */
  enrollKeys?: EnrollKeyRecord[];
}

export const STORE_FILE = 'store.json';

const isoTime = str({ min: 20, max: 40, pattern: /^\d{4}-\d\d-\d\dT[\d:.]+Z$/ });
const sha256Hex = str({ min: 64, max: 64, pattern: /^[0-9a-f]{64}$/ });
const storeShape = object({
  version: int(1, 1),
  devices: arrayOf(
    object({
      id: str({ min: 1, max: 128, pattern: DEVICE_ID_PATTERN }),
      name: deviceName,
      tokenHash: sha256Hex,
      createdAt: isoTime,
      enrolled: optional(
        object({
          hostname: enrollHostname,
          os: enrollPlatformWord,
          arch: enrollPlatformWord,
          agentVersion: enrollAgentVersion,
          keyId: str({ min: 1, max: 64, pattern: ENROLL_KEY_ID_PATTERN }),
          at: isoTime,
        }),
      ),
    }),
    { max: 100_000 },
  ),
  viewerTokens: arrayOf(
    object({
      name: tokenName,
      tokenHash: sha256Hex,
      createdAt: isoTime,
      once: optional(bool),
      expiresAt: optional(isoTime),
      viewOnly: optional(bool),
    }),
    { max: 1_000_000 },
  ),
  enrollKeys: optional(
    arrayOf(
      object({
        id: str({ min: 1, max: 64, pattern: ENROLL_KEY_ID_PATTERN }),
        name: optional(tokenName),
        keyHash: sha256Hex,
        createdAt: isoTime,
        expiresAt: isoTime,
        maxUses: int(1, MAX_ENROLL_KEY_USES),
        uses: int(0, MAX_ENROLL_KEY_USES),
        revokedAt: optional(isoTime),
      }),
      { max: 10_000 },
    ),
  ),
});

/** How long a lock file may sit before it is taken as left behind by a crashed process. */
const STALE_LOCK_MS = 10_000;
const LOCK_WAIT_MS = 5_000;

export class JsonApiStore implements ApiStore {
  readonly kind = 'json';
  readonly file: string;
  private data: StoreData = emptyStore();
  private seen: Pick<Stats, 'ino' | 'mtimeMs' | 'size'> | undefined;

  private constructor(readonly dir: string) {
    this.file = join(dir, STORE_FILE);
  }

  /** Opens (creating the data dir, mode 0700, if needed) and loads the store. */
  static open(dir: string): JsonApiStore {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const store = new JsonApiStore(dir);
    store.refresh();
    return store;
  }

  /** Re-reads the file if another process replaced it since the last read. Cheap: one stat. */
  refresh(): void {
    let st: Stats;
    try {
      st = statSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw storeError(this.file, err);
      this.data = emptyStore();
      this.seen = undefined;
      return;
    }
    const s = this.seen;
    if (s && s.ino === st.ino && s.mtimeMs === st.mtimeMs && s.size === st.size) return;
    this.data = readStore(this.file);
    this.seen = { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size };
  }

  get location(): string {
    return this.file;
  }

  async devices(): Promise<readonly DeviceRecord[]> {
    return this.devicesNow();
  }

  async device(id: string): Promise<DeviceRecord | undefined> {
    return this.devicesNow().find((d) => d.id === id);
  }

  async presentDevices(ids: readonly string[]): Promise<Set<string>> {
    const wanted = new Set(ids);
    return new Set(
      this.devicesNow()
        .filter((d) => wanted.has(d.id))
        .map((d) => d.id),
    );
  }

  async authenticateDevice(id: string, token: string): Promise<DeviceRecord | undefined> {
    const device = this.devicesNow().find((d) => d.id === id);
    return device && tokenMatches(token, device.tokenHash) ? device : undefined;
  }

  async addDevice(name: string): Promise<{ device: DeviceRecord; token: string }> {
    deviceName(name, 'name');
    const { device, token } = newDevice(name, Date.now());
    this.mutate((d) => d.devices.push(device));
    return { device, token };
  }

  async removeDevice(id: string): Promise<boolean> {
    let removed = false;
    this.mutate((d) => {
      const before = d.devices.length;
      d.devices = d.devices.filter((x) => x.id !== id);
      removed = d.devices.length !== before;
    });
    return removed;
  }

  async renameDevice(id: string, name: string): Promise<DeviceRecord> {
    deviceName(name, 'name');
    let renamed: DeviceRecord | undefined;
    this.mutate((d) => {
      const device = d.devices.find((x) => x.id === id);
      if (!device) throw new StoreError('not_found', `no device with id '${id}'`);
      const clash = d.devices.find((x) => x.id !== id && x.name.toLowerCase() === name.toLowerCase());
      if (clash) throw new StoreError('exists', `device ${clash.id} is already named '${clash.name}'`);
      device.name = name;
      renamed = device;
    });
    return renamed as DeviceRecord;
  }

  /** As pruned at the last write (every write prunes). */
  async enrollKeys(): Promise<readonly EnrollKeyRecord[]> {
    this.refresh();
    return this.data.enrollKeys ?? [];
  }

  async createEnrollKey(
    opts: { name?: string; maxUses: number; ttlMs: number },
    now = Date.now(),
  ): Promise<{ key: string; record: EnrollKeyRecord }> {
    if (opts.name !== undefined) tokenName(opts.name, 'name');
    const created = newEnrollKey(opts, now);
    this.mutate((d) => (d.enrollKeys ??= []).push(created.record), now);
    return created;
  }

  async revokeEnrollKey(id: string, now = Date.now()): Promise<boolean> {
    let found = false;
    this.mutate((d) => {
      const k = d.enrollKeys?.find((x) => x.id === id);
      if (!k) return;
      found = true;
      k.revokedAt ??= new Date(now).toISOString();
    }, now);
    return found;
  }

  /** Spends the use and adds the device in one locked write. */
  async enrollDevice(
    key: string,
    machine: EnrollingMachine,
    now = Date.now(),
  ): Promise<{ device: DeviceRecord; token: string; keyId: string }> {
    let made: { device: DeviceRecord; token: string } | undefined;
    let keyId = '';
    this.mutate((d) => {
      const k = spendEnrollKey(d.enrollKeys ?? [], key, now);
      keyId = k.id;
      const name = uniqueDeviceName(
        machine.hostname,
        d.devices.map((x) => x.name),
      );
      made = newDevice(name, now, { ...machine, keyId: k.id, at: new Date(now).toISOString() });
      d.devices.push(made.device);
    }, now);
    const { device, token } = made!;
    return { device, token, keyId };
  }

  async viewerTokens(now = Date.now()): Promise<readonly ViewerTokenRecord[]> {
    return this.viewerTokensNow(now);
  }

  async issueViewerToken(
    name: string,
    opts: ViewerTokenOptions = {},
  ): Promise<{ token: string; record: ViewerTokenRecord }> {
    const now = Date.now();
    const { token, record } = newViewerToken(name, opts, now);
    this.mutate((d) => {
      const kind = viewerTokenKind(record);
      if (kind === 'named' && d.viewerTokens.some((t) => t.name === name && viewerTokenKind(t) === kind)) {
        throw new StoreError('exists', `a viewer token named '${name}' already exists; revoke it first`);
      }
      d.viewerTokens.push(record);
    });
    return { token, record };
  }

  async revokeViewerTokens(name: string): Promise<number> {
    let count = 0;
    this.mutate((d) => {
      const before = d.viewerTokens.length;
      d.viewerTokens = d.viewerTokens.filter((t) => t.name !== name);
      count = before - d.viewerTokens.length;
    });
    return count;
  }

  /** Every record is compared, in constant time each. */
  async findViewerToken(token: string, now = Date.now()): Promise<ViewerTokenRecord | undefined> {
    const presented = Buffer.from(hashToken(token), 'hex');
    let found: ViewerTokenRecord | undefined;
    for (const t of this.viewerTokensNow(now)) if (hashMatches(presented, t.tokenHash)) found = t;
    return found;
  }

  /** Removed under the lock, so a replay (even after a restart) fails. */
  async consumeViewerToken(record: ViewerTokenRecord): Promise<boolean> {
    let removed = false;
    this.mutate((d) => {
      const i = d.viewerTokens.findIndex((t) => t.tokenHash === record.tokenHash);
      if (i >= 0) d.viewerTokens.splice(i, 1);
      removed = i >= 0;
    });
    return removed;
  }

  async close(): Promise<void> {
    // Nothing held between calls: every write opens, renames and closes.
  }

  private devicesNow(): readonly DeviceRecord[] {
    this.refresh();
    return this.data.devices;
  }

  private viewerTokensNow(now: number): readonly ViewerTokenRecord[] {
    this.refresh();
    return this.data.viewerTokens.filter((t) => !viewerTokenExpired(t, now));
  }

  /** Read-modify-write under the lock, pruning expired tokens on the way. */
  private mutate(change: (data: StoreData) => void, now = Date.now()): void {
    const release = acquireLock(`${this.file}.lock`);
    try {
      this.seen = undefined;
      this.refresh();
      const data = structuredClone(this.data);
      change(data);
      data.viewerTokens = data.viewerTokens.filter((t) => !viewerTokenExpired(t, now));
      if (data.enrollKeys) data.enrollKeys = pruneEnrollKeys(data.enrollKeys, now);
      writeAtomically(this.file, `${JSON.stringify(data, null, 2)}\n`);
      this.seen = undefined;
      this.refresh();
    } finally {
      release();
    }
  }
}

function emptyStore(): StoreData {
  return { version: 1, devices: [], viewerTokens: [] };
}

function readStore(file: string): StoreData {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw storeError(file, err);
  }
  try {
    const raw = JSON.parse(text) as unknown;
    return storeShape(raw, '') as StoreData;
  } catch (err) {
    const why = err instanceof ProtocolError ? err.message : 'not valid JSON';
    throw new StoreError(
      'unreadable',
      `store file ${file} is corrupt (${why}); it was left untouched: repair it or move it away`,
      { cause: err },
    );
  }
}

function storeError(file: string, err: unknown): StoreError {
  const code = (err as NodeJS.ErrnoException).code ?? errorMessage(err);
  return new StoreError('unreadable', `cannot read store file ${file}: ${code}`, { cause: err });
}

/** Writes a temp file beside the target, fsyncs it, renames it over the target and fsyncs the dir. */
export function writeAtomically(file: string, text: string): void {
  const temp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(temp);
    throw err;
  }
  closeSync(fd);
  renameSync(temp, file);
  const dir = openSync(join(file, '..'), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** An exclusive lock file; returns its release. Waits briefly, and breaks a lock left by a crash. */
function acquireLock(path: string): () => void {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // already gone (broken as stale by another process): nothing to release
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw storeError(path, err);
    }
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_LOCK_MS) unlinkSync(path);
    } catch {
      // released meanwhile
    }
    if (Date.now() > deadline) throw new StoreError('locked', `store is locked by another process: ${path}`);
    // The store's critical section is a few milliseconds; sleeping synchronously keeps the API simple.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}
