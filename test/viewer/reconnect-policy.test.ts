import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_RECONNECT,
  IceDropWatch,
  isRetryableStatus,
  ReconnectBudget,
  retryDelayMs,
} from '../../src/viewer/reconnect-policy.js';

describe('IceDropWatch', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const timers = {
    setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
    clearTimeout: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };

  it("drops at once on 'failed'", () => {
    const onDrop = vi.fn();
    new IceDropWatch(onDrop, timers, 3000).update('failed');
    expect(onDrop).toHaveBeenCalledWith('ICE failed');
  });

  it("drops when 'disconnected' outlasts the grace period", () => {
    const onDrop = vi.fn();
    const watch = new IceDropWatch(onDrop, timers, 3000);
    watch.update('disconnected');
    vi.advanceTimersByTime(2999);
    expect(onDrop).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onDrop).toHaveBeenCalledOnce();
  });

  it("does not drop when 'disconnected' heals within the grace period", () => {
    const onDrop = vi.fn();
    const watch = new IceDropWatch(onDrop, timers, 3000);
    watch.update('disconnected');
    vi.advanceTimersByTime(2000);
    watch.update('connected');
    vi.advanceTimersByTime(10_000);
    expect(onDrop).not.toHaveBeenCalled();
  });

  it('reports a drop only once, and nothing after dispose', () => {
    const onDrop = vi.fn();
    const watch = new IceDropWatch(onDrop, timers, 3000);
    watch.update('failed');
    watch.update('failed');
    expect(onDrop).toHaveBeenCalledOnce();
    const disposed = vi.fn();
    const other = new IceDropWatch(disposed, timers, 3000);
    other.update('disconnected');
    other.dispose();
    vi.advanceTimersByTime(10_000);
    other.update('failed');
    expect(disposed).not.toHaveBeenCalled();
  });
});

describe('ReconnectBudget', () => {
  it('backs off 1, 2, 4, 8, 8 seconds and then gives up', () => {
    const budget = new ReconnectBudget();
    const delays: number[] = [];
    for (let next = budget.next(); next; next = budget.next()) delays.push(next.delayMs);
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(budget.next()).toBeUndefined();
    expect(budget.maxAttempts).toBe(DEFAULT_RECONNECT.maxAttempts);
  });

  it('starts over after a successful connection', () => {
    const budget = new ReconnectBudget({ maxAttempts: 1, delayMs: () => 5 });
    expect(budget.next()).toEqual({ attempt: 1, delayMs: 5 });
    expect(budget.next()).toBeUndefined();
    budget.reset();
    expect(budget.next()).toEqual({ attempt: 1, delayMs: 5 });
  });
});

describe('retrying a refused start', () => {
  it('retries network failures, timeouts and capacity answers, not other refusals', () => {
    expect([0, 408, 429, 500, 502, 503, 504].map(isRetryableStatus)).toEqual(Array(7).fill(true));
    expect([400, 401, 403, 404, 409, 413].map(isRetryableStatus)).toEqual(Array(6).fill(false));
  });

  it('waits at least what the server asked', () => {
    expect(retryDelayMs(1000, 5000)).toBe(5000);
    expect(retryDelayMs(8000, 5000)).toBe(8000);
    expect(retryDelayMs(2000, undefined)).toBe(2000);
  });
});
