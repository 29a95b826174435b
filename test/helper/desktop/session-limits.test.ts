/**
 * A desktop's length and idle limits on a fake clock: when the viewer is warned, when it is cut, what
 * counts as an action, and that nothing fires once the connection ended.
 */
import { describe, expect, it } from 'vitest';
import { CUT_DELAY_MS, SessionLimits } from '../../../src/helper/desktop/session-limits.js';
import type { DesktopLimits } from '../../../src/protocol/ipc.js';
import { FakeClock } from '../../fixtures/fake-clock.js';

function setup(limits: DesktopLimits) {
  const clock = new FakeClock();
  const notices: [string, number, number][] = [];
  const cuts: [string, number][] = [];
  const l = new SessionLimits({
    limits,
    timers: clock,
    notify: (reason, remainingMs) => notices.push([reason, remainingMs, clock.now()]),
    cut: (reason) => cuts.push([reason, clock.now()]),
  });
  return { clock, notices, cuts, l };
}

describe('the maximum length', () => {
  it('counts from the connection, warns warnMs before, then cuts', async () => {
    const { clock, notices, cuts, l } = setup({ maxSessionMs: 600_000, warnMs: 60_000 });
    await clock.advance(5000); // answered, not connected yet: the clock has not started
    l.start();
    await clock.advance(539_999);
    expect(notices).toEqual([]);
    await clock.advance(1);
    expect(notices).toEqual([['max_length', 60_000, 545_000]]);
    l.action(); // input does not extend a maximum length
    await clock.advance(60_000);
    expect(notices.at(-1)).toEqual(['max_length', 0, 605_000]);
    expect(cuts).toEqual([]);
    await clock.advance(CUT_DELAY_MS);
    expect(cuts).toEqual([['max_length', 605_000 + CUT_DELAY_MS]]);
  });

  it('does not warn when warnMs is 0', async () => {
    const { clock, notices, cuts, l } = setup({ maxSessionMs: 10_000, warnMs: 0 });
    l.start();
    await clock.advance(10_000 + CUT_DELAY_MS);
    expect(notices).toEqual([['max_length', 0, 10_000]]);
    expect(cuts).toHaveLength(1);
  });
});

describe('the idle timeout', () => {
  it('is reset by every action, warns, and cuts after idleMs without one', async () => {
    const { clock, notices, cuts, l } = setup({ idleMs: 300_000, warnMs: 60_000 });
    l.start();
    await clock.advance(200_000);
    l.action();
    await clock.advance(200_000); // 200 s since the action: no warning yet
    expect(notices).toEqual([]);
    await clock.advance(40_000); // 240 s idle
    expect(notices).toEqual([['idle', 60_000, 440_000]]);
    await clock.advance(60_000);
    expect(notices.at(-1)).toEqual(['idle', 0, 500_000]);
    await clock.advance(CUT_DELAY_MS);
    expect(cuts).toEqual([['idle', 500_000 + CUT_DELAY_MS]]);
  });

  it('tells the viewer the full idle time again after an action that follows a warning', async () => {
    const { clock, notices, cuts, l } = setup({ idleMs: 10_000, warnMs: 3000 });
    l.start();
    await clock.advance(7000);
    expect(notices).toEqual([['idle', 3000, 7000]]);
    l.action();
    l.action(); // once per warning
    expect(notices).toEqual([
      ['idle', 3000, 7000],
      ['idle', 10_000, 7000],
    ]);
    await clock.advance(9999);
    expect(cuts).toEqual([]);
    expect(notices).toHaveLength(3); // warned again at 7 s after the action
    await clock.advance(1 + CUT_DELAY_MS);
    expect(cuts).toHaveLength(1);
  });

  it('re-arms a single timer rather than one per action', async () => {
    const { clock, l } = setup({ idleMs: 10_000, warnMs: 3000 });
    l.start();
    for (let i = 0; i < 1000; i++) l.action();
    expect(clock.pending).toHaveLength(1);
  });
});

describe('both limits and the end of the connection', () => {
  it('cuts once, for whichever comes first', async () => {
    const { clock, cuts, l } = setup({ maxSessionMs: 20_000, idleMs: 10_000, warnMs: 1000 });
    l.start();
    await clock.advance(60_000);
    expect(cuts.map((c) => c[0])).toEqual(['idle']);
  });

  it('fires nothing after close, nor after the connection ended during the cut delay', async () => {
    const a = setup({ maxSessionMs: 20_000, idleMs: 10_000, warnMs: 1000 });
    a.l.start();
    a.l.close();
    await a.clock.advance(60_000);
    expect([a.notices, a.cuts, a.clock.pending]).toEqual([[], [], []]);
    const b = setup({ maxSessionMs: 1000, warnMs: 0 });
    b.l.start();
    await b.clock.advance(1000);
    b.l.close();
    await b.clock.advance(CUT_DELAY_MS);
    expect(b.cuts).toEqual([]);
  });

  it('has no clock running before start', async () => {
    const { clock, l } = setup({ maxSessionMs: 1000, idleMs: 2000, warnMs: 0 });
    void l;
    await clock.advance(10_000);
    expect(clock.pending).toEqual([]);
  });
});
