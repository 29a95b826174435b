import { describe, expect, it } from 'vitest';
import { createInputGate, type InputLimits } from '../../../src/helper/webrtc/input-gate.js';
import type { InputMessage } from '../../../src/protocol/datachannel.js';
import { FakeClock } from '../../fixtures/fake-clock.js';

/** The gate on a fake clock: `delivered` holds what reached the session, `releases` how often it had to release all. */
function setup(limits: Partial<InputLimits> = {}) {
  const clock = new FakeClock();
  const delivered: (InputMessage | 'releaseAll')[] = [];
  const warnings: { obj: object; msg?: string }[] = [];
  const gate = createInputGate({
    log: { warn: (obj, msg) => warnings.push({ obj, msg }) },
    limits,
    timers: clock,
    deliver: (m) => delivered.push(m),
    releaseAll: () => delivered.push('releaseAll'),
  });
  const send = (m: object | string): void => gate.receive(typeof m === 'string' ? m : JSON.stringify(m));
  const releases = (): number => delivered.filter((m) => m === 'releaseAll').length;
  return { clock, gate, delivered, warnings, send, releases };
}

const move = (x: number, y = 0.5) => ({ type: 'pointer_move', x, y });
const key = (code: string, down: boolean) => ({ type: 'key', code, down });
const button = (down: boolean) => ({ type: 'pointer_button', button: 'left', down });
const types = (ms: (InputMessage | 'releaseAll')[]): string[] =>
  ms.map((m) => (m === 'releaseAll' ? m : m.type === 'key' ? `key ${m.code} ${m.down}` : m.type));

describe('createInputGate', () => {
  it('delivers a key-up that follows a flood of 2000 pointer moves, and the last position', async () => {
    const { clock, send, delivered, releases } = setup();
    send(key('ShiftLeft', true));
    for (let i = 0; i < 2000; i++) send(move(i / 2000));
    send(key('ShiftLeft', false));
    expect(delivered.filter((m) => m !== 'releaseAll' && m.type === 'key')).toEqual([
      key('ShiftLeft', true),
      key('ShiftLeft', false),
    ]);
    expect(releases()).toBe(0);
    // The moves over the limit were merged into one, delivered before the key-up.
    const moves = delivered.filter((m) => m !== 'releaseAll' && m.type === 'pointer_move');
    expect(moves).toHaveLength(1001);
    expect(moves.at(-1)).toEqual(move(1999 / 2000));
    expect(types(delivered.slice(-2))).toEqual(['pointer_move', 'key ShiftLeft false']);
    await clock.advance(10_000);
    expect(delivered).toHaveLength(1003);
  });

  it('coalesces moves over the limit to the latest position and delivers it as soon as the limit allows', async () => {
    const { clock, gate, send, delivered } = setup({ pointer_move: { perSecond: 10, burst: 2 } });
    for (let i = 1; i <= 5; i++) send(move(i / 10));
    expect(delivered).toEqual([move(0.1), move(0.2)]);
    expect(clock.pending).toEqual([100]);
    await clock.advance(100);
    expect(delivered).toEqual([move(0.1), move(0.2), move(0.5)]);
    expect(gate.counters).toEqual({ accepted: 3, invalid: 0, rateLimited: 0, coalesced: 2 });
    expect(clock.pending).toEqual([]);
  });

  it('sums wheel deltas over the limit (within the protocol bound) instead of dropping them', async () => {
    const { clock, send, delivered } = setup({ wheel: { perSecond: 10, burst: 1 } });
    send({ type: 'wheel', dx: 0, dy: 120 });
    send({ type: 'wheel', dx: 0, dy: 120 });
    send({ type: 'wheel', dx: 30, dy: -360 });
    for (let i = 0; i < 3; i++) send({ type: 'wheel', dx: 0, dy: 6000 });
    await clock.advance(100);
    expect(delivered).toEqual([
      { type: 'wheel', dx: 0, dy: 120 },
      { type: 'wheel', dx: 30, dy: 12_000 },
    ]);
  });

  it('delivers a pending move before a later click, so the click lands where the pointer was sent', () => {
    const { send, delivered } = setup({ pointer_move: { perSecond: 10, burst: 1 } });
    send(move(0.1));
    send(move(0.7));
    send(button(true));
    expect(delivered).toEqual([move(0.1), move(0.7), button(true)]);
  });

  it('never limits the release of a held key or button, even with their limits used up', () => {
    const { send, delivered, releases } = setup({
      key: { perSecond: 1, burst: 2 },
      pointer_button: { perSecond: 1, burst: 1 },
    });
    send(key('KeyA', true));
    send(key('KeyB', true));
    send(button(true));
    send(key('KeyB', false));
    send(button(false));
    send(key('KeyA', false));
    expect(releases()).toBe(0);
    expect(delivered).toEqual([
      key('KeyA', true),
      key('KeyB', true),
      button(true),
      key('KeyB', false),
      button(false),
      key('KeyA', false),
    ]);
  });

  it('releases everything held when a message over its limit is dropped', () => {
    const { send, delivered, gate, warnings } = setup({ text: { perSecond: 10, burst: 10 } });
    send(key('ControlLeft', true));
    send({ type: 'text', text: 'x'.repeat(10) });
    send({ type: 'text', text: 'y' });
    expect(types(delivered)).toEqual(['key ControlLeft true', 'text', 'releaseAll']);
    expect(gate.counters.rateLimited).toBe(1);
    expect(warnings.map((w) => w.msg)).toContain(
      'input dropped while keys or buttons were held: released them',
    );
    // Forgotten: its late release is an ordinary message, and a drop now releases nothing more.
    send({ type: 'text', text: 'y' });
    expect(types(delivered)).toEqual(['key ControlLeft true', 'text', 'releaseAll']);
    send(key('ControlLeft', false));
    expect(types(delivered)).toEqual(['key ControlLeft true', 'text', 'releaseAll', 'key ControlLeft false']);
  });

  it('releases everything held when a malformed message is dropped (it may have been the release)', () => {
    const { send, delivered, gate } = setup();
    send(button(true));
    send({ type: 'pointer_button', button: 'left', down: false, extra: 1 });
    expect(types(delivered)).toEqual(['pointer_button', 'releaseAll']);
    expect(gate.counters.invalid).toBe(1);
    send('not json');
    expect(types(delivered)).toEqual(['pointer_button', 'releaseAll']);
  });

  it('limits text by characters and clipboard writes by count, and drops nothing while nothing is held', async () => {
    const { clock, send, delivered, releases } = setup({
      text: { perSecond: 100, burst: 100 },
      clipboard: { perSecond: 1, burst: 1 },
    });
    send({ type: 'text', text: 'a'.repeat(60) });
    send({ type: 'text', text: 'b'.repeat(60) });
    send({ type: 'clipboard', text: 'one' });
    send({ type: 'clipboard', text: 'two' });
    await clock.advance(1000);
    send({ type: 'text', text: 'b'.repeat(60) });
    send({ type: 'clipboard', text: 'three' });
    expect(delivered.map((m) => (m !== 'releaseAll' && 'text' in m ? m.text.slice(0, 5) : m))).toEqual([
      'aaaaa',
      'one',
      'bbbbb',
      'three',
    ]);
    expect(releases()).toBe(0);
  });

  it('drops a press beyond 64 keys held at once', () => {
    const { send, delivered } = setup({ key: { perSecond: 1000, burst: 1000 } });
    for (let i = 0; i < 65; i++) send(key(`Key${i}x`, true));
    expect(delivered.filter((m) => m !== 'releaseAll')).toHaveLength(64);
    expect(delivered.at(-1)).toBe('releaseAll');
  });

  it('counts every message once', async () => {
    const { clock, gate, send } = setup({
      pointer_move: { perSecond: 10, burst: 1 },
      key: { perSecond: 1, burst: 1 },
    });
    for (let i = 0; i < 10; i++) send(move(0.5));
    send(key('KeyA', true));
    send(key('KeyB', true));
    send('{}');
    await clock.advance(1000);
    const c = gate.counters;
    expect(c).toEqual({ accepted: 3, invalid: 1, rateLimited: 1, coalesced: 8 });
    expect(c.accepted + c.invalid + c.rateLimited + c.coalesced).toBe(13);
  });

  it('forgets pending input and its timer when closed', async () => {
    const { clock, gate, send, delivered } = setup({ pointer_move: { perSecond: 1, burst: 1 } });
    send(move(0.1));
    send(move(0.2));
    gate.close();
    expect(clock.pending).toEqual([]);
    send(move(0.3));
    await clock.advance(5000);
    expect(delivered).toEqual([move(0.1)]);
  });
});
