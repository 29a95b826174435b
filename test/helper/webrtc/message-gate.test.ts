import { describe, expect, it } from 'vitest';
import { createMessageGate } from '../../../src/helper/webrtc/message-gate.js';
import { parseInputMessage } from '../../../src/protocol/datachannel.js';

function setup(maxPerSecond = 10) {
  let t = 0;
  const warnings: { obj: object; msg?: string }[] = [];
  const ignore = (): void => {};
  const gate = createMessageGate({
    channel: 'input',
    parse: parseInputMessage,
    maxPerSecond,
    logIntervalMs: 1000,
    now: () => t,
    log: { warn: (obj, msg) => warnings.push({ obj, msg }), error: ignore, info: ignore, debug: ignore },
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
    expect(gate.counters).toEqual({ accepted: 10, invalid: 0, rateLimited: 5 });
    expect(warnings).toHaveLength(1);
    advance(500);
    expect(Array.from({ length: 10 }, () => gate.admit(move)).filter(Boolean)).toHaveLength(5);
  });

  it('logs one line per kind of bad message per interval, with the count dropped meanwhile', () => {
    const { gate, warnings, advance } = setup(1000);
    for (let i = 0; i < 5; i++) gate.admit('not json');
    gate.admit(JSON.stringify({ type: 'pointer_move', x: 9, y: 0 }));
    expect(warnings.map((w) => w.msg)).toEqual(['bad message dropped', 'bad message dropped']);
    advance(1001);
    gate.admit('not json');
    expect(warnings).toHaveLength(3);
    expect(warnings[2]!.obj).toMatchObject({ droppedSinceLastLog: 4 });
    expect(gate.counters.invalid).toBe(7);
  });
});
