import { describe, expect, it } from 'vitest';
import { createMessageGate, TokenBucket } from '../../../src/helper/webrtc/message-gate.js';
import { parseControlMessage, parseInputMessage } from '../../../src/protocol/datachannel.js';

function setup(perSecond = 10) {
  let t = 0;
  const warnings: { obj: object; msg?: string }[] = [];
  const gate = createMessageGate({
    channel: 'input',
    parse: parseInputMessage,
    limits: { default: { perSecond, burst: perSecond } },
    logIntervalMs: 1000,
    now: () => t,
    log: { warn: (obj, msg) => warnings.push({ obj, msg }) },
  });
  return { gate, warnings, advance: (ms: number) => (t += ms) };
}

const move = JSON.stringify({ type: 'pointer_move', x: 0.5, y: 0.5 });

describe('createMessageGate', () => {
  it('passes valid messages through as parsed objects', () => {
    const { gate } = setup();
    expect(gate.admit(move)).toEqual({ type: 'pointer_move', x: 0.5, y: 0.5 });
  });

  it('drops past the rate and admits again once the bucket refills', () => {
    const { gate, warnings, advance } = setup(10);
    const results = Array.from({ length: 15 }, () => gate.admit(move));
    expect(results.filter(Boolean)).toHaveLength(10);
    expect(gate.counters).toEqual({ accepted: 10, invalid: 0, rateLimited: 5, coalesced: 0 });
    expect(warnings).toHaveLength(1);
    advance(500);
    expect(Array.from({ length: 10 }, () => gate.admit(move)).filter(Boolean)).toHaveLength(5);
  });

  it('logs one line per kind of bad message per interval, with the count dropped meanwhile', () => {
    const { gate, warnings, advance } = setup(1000);
    for (let i = 0; i < 5; i++) gate.admit('not json');
    gate.admit(JSON.stringify({ type: 'pointer_move', x: '9', y: 0 }));
    expect(warnings.map((w) => w.msg)).toEqual(['bad message dropped', 'bad message dropped']);
    advance(1001);
    gate.admit('not json');
    expect(warnings).toHaveLength(3);
    expect(warnings[2]!.obj).toMatchObject({ droppedSinceLastLog: 4 });
    expect(gate.counters.invalid).toBe(7);
  });

  it('limits each message type on its own, so a flood of one type cannot starve another', () => {
    let t = 0;
    const gate = createMessageGate({
      channel: 'control',
      parse: parseControlMessage,
      limits: { default: { perSecond: 5, burst: 5 }, heartbeat: { perSecond: 1, burst: 2 } },
      now: () => t,
      log: { warn: () => {} },
    });
    const keyframe = JSON.stringify({ type: 'keyframe' });
    const heartbeat = JSON.stringify({ type: 'heartbeat' });
    expect(Array.from({ length: 50 }, () => gate.admit(keyframe)).filter(Boolean)).toHaveLength(5);
    expect(gate.admit(heartbeat)).toEqual({ type: 'heartbeat' });
    expect(gate.admit(heartbeat)).toEqual({ type: 'heartbeat' });
    expect(gate.admit(heartbeat)).toBeUndefined();
    // Types without a limit of their own share the default's bucket.
    expect(gate.admit(JSON.stringify({ type: 'ctrl_alt_del' }))).toBeUndefined();
    t += 1000;
    expect(gate.admit(heartbeat)).toEqual({ type: 'heartbeat' });
    expect(gate.counters).toEqual({ accepted: 8, invalid: 0, rateLimited: 47, coalesced: 0 });
  });
});

describe('TokenBucket', () => {
  it('says how long until it holds a cost, and never asks for more than a burst', () => {
    let t = 0;
    const bucket = new TokenBucket({ perSecond: 100, burst: 10 }, () => t);
    expect(bucket.take(10)).toBe(true);
    expect(bucket.msUntil(1)).toBe(10);
    expect(bucket.msUntil(5)).toBe(50);
    expect(bucket.msUntil(1000)).toBe(100);
    t += 100;
    expect(bucket.take(1000)).toBe(true);
    expect(bucket.take(1)).toBe(false);
  });
});
