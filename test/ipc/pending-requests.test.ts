import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_ID } from '../../src/ipc/envelope.js';
import { RequestTimeoutError, TooManyRequestsError } from '../../src/ipc/errors.js';
import { PendingRequests } from '../../src/ipc/pending-requests.js';
import { TokenBucket } from '../../src/ipc/rate-limit.js';

describe('PendingRequests', () => {
  it('wraps ids around without ever using 0 or an id still waiting', async () => {
    const pending = new PendingRequests<string>(4);
    const ids: number[] = [];
    const first = pending.open(10_000, (id) => ids.push(id)); // id 1 stays pending
    (pending as unknown as { nextId: number }).nextId = MAX_REQUEST_ID;
    const rest = [0, 1].map(() => pending.open(10_000, (id) => ids.push(id)));
    expect(ids).toEqual([1, MAX_REQUEST_ID, 2]);
    for (const id of ids) pending.take(id)?.resolve(`r${id}`);
    expect(await first).toBe('r1');
    expect(await Promise.all(rest)).toEqual([`r${MAX_REQUEST_ID}`, 'r2']);
  });

  it('rejects over its cap, and on timeout forgets the id so a late answer finds nothing', async () => {
    const pending = new PendingRequests<string>(1);
    let sent = 0;
    const slow = pending.open(20, (id) => (sent = id));
    await expect(pending.open(20, () => {})).rejects.toBeInstanceOf(TooManyRequestsError);
    await expect(slow).rejects.toBeInstanceOf(RequestTimeoutError);
    expect(pending.take(sent)).toBeUndefined();
    expect(pending.size).toBe(0);
  });

  it('registers nothing when sending throws', async () => {
    const pending = new PendingRequests<string>(1);
    await expect(
      pending.open(1_000, () => {
        throw new Error('queue full');
      }),
    ).rejects.toThrow('queue full');
    expect(pending.size).toBe(0);
  });
});

describe('TokenBucket', () => {
  it('allows the burst at once, then the sustained rate', () => {
    let now = 0;
    const bucket = new TokenBucket(100, 10, () => now);
    expect(Array.from({ length: 11 }, () => bucket.take())).toEqual([...Array(10).fill(true), false]);
    now += 50; // 100/s × 50 ms = 5 tokens
    expect(Array.from({ length: 6 }, () => bucket.take())).toEqual([...Array(5).fill(true), false]);
    now += 10_000; // refills to the burst, not beyond
    expect(Array.from({ length: 11 }, () => bucket.take()).filter(Boolean)).toHaveLength(10);
  });
});
