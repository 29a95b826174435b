import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeRelayFrame,
  decodeRelayHeader,
  encodeRelayFrame,
  encodeRelayText,
  MAX_RELAY_FRAME_BYTES,
  MAX_RELAY_TEXT_BYTES,
  RELAY_HEADER_BYTES,
  RelayFrameError,
  relayTarget,
  type RelayFrameType,
} from '../../src/protocol/relay.js';
import { parseApiCommand } from '../../src/protocol/api.js';
import { parseServiceToHelper } from '../../src/protocol/ipc.js';

const TICKET = `0a1b2c.${'A'.repeat(43)}`;

function refusal(frame: Uint8Array): string {
  try {
    decodeRelayHeader(frame);
  } catch (err) {
    if (err instanceof RelayFrameError) return err.field;
    throw err;
  }
  return 'accepted';
}

describe('relay frame header', () => {
  it('reads back type, keyframe flag, timestamp and payload of any frame it wrote', () => {
    const types: RelayFrameType[] = ['video', 'input', 'control', 'cursor', 'chat', 'ack'];
    fc.assert(
      fc.property(
        fc.constantFrom(...types),
        fc.boolean(),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ maxLength: 512 }),
        (type, key, timestampUs, payload) => {
          const keyframe = type === 'video' && key;
          const frame = decodeRelayFrame(encodeRelayFrame({ type, keyframe, timestampUs }, payload));
          expect(frame).toMatchObject({ type, keyframe, timestampUs });
          expect([...frame.payload]).toEqual([...payload]);
        },
      ),
    );
  });

  it('lays the header out as documented: type byte, flags byte, float64 big-endian µs', () => {
    const frame = encodeRelayFrame({ type: 'video', keyframe: true, timestampUs: 1 }, new Uint8Array([9]));
    expect([...frame]).toEqual([1, 1, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 9]);
    expect(RELAY_HEADER_BYTES).toBe(10);
  });

  it('carries text as UTF-8', () => {
    const frame = decodeRelayFrame(encodeRelayText('input', '{"type":"key","é":1}'));
    expect(new TextDecoder().decode(frame.payload)).toBe('{"type":"key","é":1}');
  });

  it('refuses a frame shorter than its header', () => {
    expect(refusal(new Uint8Array(RELAY_HEADER_BYTES - 1))).toBe('length');
  });

  it('refuses an unknown type, unknown flag bits and a keyframe that is not video', () => {
    const base = encodeRelayText('control', '{}');
    expect(refusal(Uint8Array.from(base, (b, i) => (i === 0 ? 0 : b)))).toBe('type');
    expect(refusal(Uint8Array.from(base, (b, i) => (i === 0 ? 7 : b)))).toBe('type');
    expect(refusal(Uint8Array.from(base, (b, i) => (i === 1 ? 2 : b)))).toBe('flags');
    expect(refusal(Uint8Array.from(base, (b, i) => (i === 1 ? 1 : b)))).toBe('flags');
  });

  it('refuses a negative, NaN or infinite timestamp', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const frame = encodeRelayText('control', '{}');
      new DataView(frame.buffer).setFloat64(2, bad);
      expect(refusal(frame)).toBe('timestamp');
    }
  });

  it('refuses a text frame over its limit and any frame over the overall limit', () => {
    const text = new Uint8Array(RELAY_HEADER_BYTES + MAX_RELAY_TEXT_BYTES + 1);
    text[0] = 2;
    expect(refusal(text)).toBe('length');
    text[0] = 1;
    expect(refusal(text)).toBe('accepted');
    expect(() =>
      encodeRelayFrame(
        { type: 'video', keyframe: false, timestampUs: 0 },
        new Uint8Array(MAX_RELAY_FRAME_BYTES),
      ),
    ).toThrow(RelayFrameError);
  });
});

describe('relay target and the start_desktop fields that carry it', () => {
  it('accepts a ws: or wss: URL with a well-formed ticket', () => {
    expect(relayTarget({ url: 'wss://api.example/api/relay/agent', ticket: TICKET }, 'relay')).toEqual({
      url: 'wss://api.example/api/relay/agent',
      ticket: TICKET,
    });
  });

  it('refuses another scheme, credentials in the URL and a malformed ticket, naming the field', () => {
    expect(() => relayTarget({ url: 'https://api.example/x', ticket: TICKET }, 'relay')).toThrow(
      /relay\.url/,
    );
    expect(() => relayTarget({ url: 'ws://u:p@api.example/x', ticket: TICKET }, 'relay')).toThrow(
      /relay\.url/,
    );
    expect(() => relayTarget({ url: 'ws://api.example/x', ticket: 'nope' }, 'relay')).toThrow(
      /relay\.ticket/,
    );
  });

  it('start_desktop takes an offer or a relay target, never both or neither', () => {
    const base = { id: 'c1', type: 'start_desktop' };
    const relay = { url: 'ws://127.0.0.1:1/api/relay/agent', ticket: TICKET };
    expect(parseApiCommand({ ...base, payload: { sessionId: 'd', iceServers: [], relay } }).payload).toEqual({
      sessionId: 'd',
      iceServers: [],
      relay,
    });
    expect(() => parseApiCommand({ ...base, payload: { sessionId: 'd', iceServers: [] } })).toThrow(
      /payload\.offer: is required/,
    );
    expect(() =>
      parseApiCommand({ ...base, payload: { sessionId: 'd', iceServers: [], relay, offer: 'v=0' } }),
    ).toThrow(/payload\.offer/);
  });

  it('desktop_start on the pipe holds the same rule', () => {
    const relay = { url: 'ws://127.0.0.1:1/api/relay/agent', ticket: TICKET };
    const base = { type: 'desktop_start', sessionId: 'd', iceServers: [], displayIndex: 0 };
    expect(parseServiceToHelper({ ...base, relay })).toMatchObject({ relay });
    expect(() => parseServiceToHelper(base)).toThrow(/offer/);
  });
});
