import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseControlMessage,
  parseDataChannelText,
  parseHelperToViewer,
  parseInputMessage,
  type InputMessage,
} from '../../src/protocol/datachannel.js';
import { unit } from './arbitraries.js';

const input = (text: string): InputMessage => parseDataChannelText(text, parseInputMessage);

const inputMessage: fc.Arbitrary<InputMessage> = fc.oneof(
  fc.record({ type: fc.constant('pointer_move' as const), x: unit, y: unit }),
  fc.record(
    {
      type: fc.constant('pointer_button' as const),
      button: fc.constantFrom('left', 'middle', 'right', 'back', 'forward'),
      down: fc.boolean(),
      x: unit,
      y: unit,
    },
    { requiredKeys: ['type', 'button', 'down'] },
  ),
  fc.record({
    type: fc.constant('wheel' as const),
    dx: fc.double({ min: -12_000, max: 12_000, noNaN: true }),
    dy: fc.double({ min: -12_000, max: 12_000, noNaN: true }),
  }),
  fc.record({
    type: fc.constant('key' as const),
    code: fc.stringMatching(/^[A-Z][A-Za-z0-9]{1,20}$/),
    down: fc.boolean(),
  }),
  fc.record({ type: fc.constant('text' as const), text: fc.string({ minLength: 1, maxLength: 200 }) }),
  fc.record({ type: fc.constant('clipboard' as const), text: fc.string({ maxLength: 500 }) }),
);

describe('DataChannel input', () => {
  it('round-trips any valid input message through JSON text', () => {
    fc.assert(
      fc.property(inputMessage, (m) => {
        expect(input(JSON.stringify(m))).toEqual(JSON.parse(JSON.stringify(m)));
      }),
    );
  });

  const bad: [string, string, RegExp][] = [
    ['binary data', '\u0000\u0001', /JSON/],
    ['a JSON array', '[1,2]', /object/],
    ['a pointer position that is not a number', '{"type":"pointer_move","x":"0.5","y":0}', /^x:/],
    ['a NaN pointer position (JSON null)', '{"type":"pointer_move","x":0,"y":null}', /^y:/],
    [
      'a button position that is not a number',
      '{"type":"pointer_button","button":"left","down":true,"x":[]}',
      /^x:/,
    ],
    ['an unknown button', '{"type":"pointer_button","button":"sixth","down":true}', /^button:/],
    ['a huge wheel delta', '{"type":"wheel","dx":0,"dy":1e9}', /^dy:/],
    ['a key code with punctuation', '{"type":"key","code":"Key;rm","down":true}', /^code:/],
    ['an empty text', '{"type":"text","text":""}', /^text:/],
    ['an unknown type', '{"type":"format_disk"}', /^type:/],
  ];
  for (const [what, text, re] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => input(text)).toThrow(re);
    });
  }

  it('clamps a pointer position off the display to its edge, as a local pointer stops there', () => {
    expect(input('{"type":"pointer_move","x":1.5,"y":-0.1}')).toEqual({ type: 'pointer_move', x: 1, y: 0 });
    expect(input('{"type":"pointer_move","x":-1e300,"y":1.0000001}')).toEqual({
      type: 'pointer_move',
      x: 0,
      y: 1,
    });
    expect(input('{"type":"pointer_button","button":"left","down":false,"x":2,"y":0.5}')).toEqual({
      type: 'pointer_button',
      button: 'left',
      down: false,
      x: 1,
      y: 0.5,
    });
  });

  it('accepts text of up to 4096 characters, newlines included', () => {
    expect(input(JSON.stringify({ type: 'text', text: 'line\nnext' }))).toEqual({
      type: 'text',
      text: 'line\nnext',
    });
    expect(() => input(JSON.stringify({ type: 'text', text: 'x'.repeat(4097) }))).toThrow(/^text:/);
  });

  it('rejects text longer than the DataChannel bound before parsing it', () => {
    expect(() => input(`{"type":"clipboard","text":"${'a'.repeat(1_200_000)}"}`)).toThrow(/longer than/);
  });
});

describe('DataChannel control and helper messages', () => {
  it('accepts the control messages', () => {
    for (const m of [
      { type: 'heartbeat' },
      { type: 'ctrl_alt_del' },
      { type: 'select_display', index: 1 },
      { type: 'keyframe' },
      { type: 'rate', bitrate: 2_000_000, fps: 30 },
    ]) {
      expect(parseControlMessage(m)).toEqual(m);
    }
  });

  it('rejects a heartbeat with fields', () => {
    expect(() => parseControlMessage({ type: 'heartbeat', at: 1 })).toThrow(/^at:/);
  });

  it('rejects an fps of zero', () => {
    expect(() => parseControlMessage({ type: 'rate', fps: 0 })).toThrow(/^fps:/);
  });

  it('checks that a cursor shape has exactly width × height RGBA pixels', () => {
    const rgba = Buffer.alloc(2 * 2 * 4).toString('base64');
    const ok = { type: 'cursor_shape', serial: 1, width: 2, height: 2, hotX: 1, hotY: 1, rgba };
    expect(parseHelperToViewer(ok)).toEqual(ok);
    expect(() => parseHelperToViewer({ ...ok, width: 3 })).toThrow(/rgba/);
    expect(() => parseHelperToViewer({ ...ok, hotX: 2 })).toThrow(/hotspot/);
  });
});
