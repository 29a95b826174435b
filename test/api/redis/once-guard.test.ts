/**
 * ViewerAuth with the cross-instance one-time guard (what `--redis` on a JSON store gives it): a
 * login token another instance already spent is refused before the store is touched.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonApiStore } from '../../../src/api/json-store.js';
import { ViewerAuth } from '../../../src/api/viewer-auth.js';

describe('one-time login tokens across instances', () => {
  it('asks the guard once per login token and refuses what it says was spent elsewhere', async () => {
    const store = JsonApiStore.open(mkdtempSync(join(tmpdir(), 'porthole-once-')));
    const spent = new Set<string>();
    const asked: number[] = [];
    const auth = new ViewerAuth(store, {}, async (key, ttlMs) => {
      asked.push(ttlMs);
      if (spent.has(key)) return false;
      spent.add(key);
      return true;
    });
    const token = await auth.issueLoginToken('erin');
    // Another instance spent it: the guard says no, and this store's copy is left alone.
    const record = await store.findViewerToken(token);
    spent.add(record?.tokenHash ?? '');
    await expect(auth.login(token)).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await store.findViewerToken(token)).toBeDefined();

    const fresh = await auth.issueLoginToken('erin');
    expect((await auth.login(fresh)).name).toBe('erin');
    await expect(auth.login(fresh)).rejects.toMatchObject({ status: 401 });
    // The guard's key outlives the token (10 min) by its margin, never less.
    expect(asked.every((ms) => ms > 10 * 60_000 && ms <= 11 * 60_000)).toBe(true);
    // A named token is not one-time: the guard is not asked for it.
    const before = asked.length;
    const named = (await store.issueViewerToken('frank')).token;
    await auth.login(named);
    await auth.login(named);
    expect(asked.length).toBe(before);
  });
});
