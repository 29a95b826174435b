/**
 * Fuzzing the receive path: 100 000 generated and mutated frames straight into the reader, opener,
 * payload decoder, envelope reader and body validator (the bulk, in-process for speed), then a few
 * hundred misbehaving clients over a real socket, after which a well-behaved helper must still work.
 */
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import net from 'node:net';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Kind, readEnvelope } from '../../src/ipc/envelope.js';
import { FrameError, type CloseReason } from '../../src/ipc/errors.js';
import {
  Direction,
  FrameOpener,
  FrameSealer,
  LENGTH_BYTES,
  authenticatedFrameReader,
} from '../../src/ipc/frame.js';
import { clientHandshake } from '../../src/ipc/handshake.js';
import { encodePayload, decodePayload } from '../../src/ipc/payload.js';
import { ProtocolError } from '../../src/protocol/validate.js';
import { openPair, validateTestBody } from './helpers.js';
import { waitFor } from '../fixtures/wait-for.js';

const CASES = 100_000;
const MAX_FRAME = 4096;
const key = createSecretKey(randomBytes(32));
const otherKey = createSecretKey(randomBytes(32));
const S2H = Direction.serviceToHelper;

/** xorshift32: fast, and a failing case can be replayed from its seed. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function sealAt(
  sequence: number,
  payload: Uint8Array,
  k: KeyObject = key,
  direction: Direction = S2H,
): Buffer {
  const sealer = new FrameSealer(k, direction);
  for (let i = 0; i < sequence; i++) sealer.seal(Buffer.alloc(1));
  return sealer.seal(payload);
}

const validPayloads = [
  encodePayload([Kind.message, 0, { type: 'capabilities', canCapture: true }]),
  encodePayload([Kind.request, 1, { type: 'desktop_start', offer: 'v=0\r\n'.repeat(20) }]),
  encodePayload([Kind.response, 7, { type: 'desktop_started', answer: 'a=x' }]),
  encodePayload([Kind.ping, 0, null]),
].map((p) => Buffer.from(p));
const validFrames = (() => {
  const sealer = new FrameSealer(key, S2H);
  return validPayloads.map((p) => sealer.seal(p));
})();

/** The whole receive path; counts frames accepted and whether the stream was refused. */
function receive(bytes: Buffer): { accepted: number; refused: boolean } {
  const reader = authenticatedFrameReader(MAX_FRAME);
  const opener = new FrameOpener(key, S2H);
  let accepted = 0;
  try {
    reader.push(bytes, (body) => {
      const envelope = readEnvelope(decodePayload(opener.open(body)));
      if (envelope.kind !== Kind.ping && envelope.kind !== Kind.pong) validateTestBody(envelope.body);
      accepted += 1;
    });
  } catch (err) {
    if (err instanceof FrameError || err instanceof ProtocolError) return { accepted, refused: true };
    throw err;
  }
  // A partial frame left at the end of the stream is a truncated frame: refused when the peer closes.
  return { accepted, refused: reader.hasPartialFrame };
}

type Mutation = (frame: Buffer, at: number, rand: () => number) => Buffer | null;

const randomBytesFrom = (rand: () => number, n: number): Buffer =>
  Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));

const mutations: Record<string, Mutation> = {
  bitFlips: (frame, _at, rand) => {
    const out = Buffer.from(frame);
    const flips = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < flips; i++) {
      const byte = Math.floor(rand() * out.length);
      out[byte] = (out[byte] as number) ^ (1 << Math.floor(rand() * 8));
    }
    return out.equals(frame) ? null : out;
  },
  truncation: (frame, _at, rand) => frame.subarray(0, 1 + Math.floor(rand() * (frame.length - 1))),
  lengthTampering: (frame, _at, rand) => {
    const out = Buffer.from(frame);
    const real = frame.length - LENGTH_BYTES;
    const choices = [0, 1, real - 1, real + 1, real + 1000, 0xffff_ffff, Math.floor(rand() * 2 ** 32)];
    const length = choices[Math.floor(rand() * choices.length)] as number;
    if (length === real) return null;
    out.writeUInt32BE(length);
    return out;
  },
  randomBytes: (_frame, _at, rand) => randomBytesFrom(rand, 1 + Math.floor(rand() * 300)),
  oversized: (_frame, _at, rand) => {
    const out = randomBytesFrom(rand, 64);
    out.writeUInt32BE(MAX_FRAME + Math.floor(rand() * 2 ** 20));
    return out;
  },
  replay: (_frame, at) => (at === 0 ? null : (validFrames[at - 1] as Buffer)),
  reorder: (_frame, at) => validFrames[at + 1] ?? null,
  otherConnectionKey: (_frame, at) => sealAt(at, validPayloads[at] as Buffer, otherKey),
  otherDirection: (_frame, at) => sealAt(at, validPayloads[at] as Buffer, key, Direction.helperToService),
  authenticatedGarbage: (_frame, at, rand) => sealAt(at, randomBytesFrom(rand, 1 + Math.floor(rand() * 100))),
  trailingBytes: (_frame, at, rand) =>
    sealAt(
      at,
      Buffer.concat([validPayloads[at] as Buffer, randomBytesFrom(rand, 1 + Math.floor(rand() * 8))]),
    ),
  extensionTypes: (_frame, at, rand) => {
    // [0, 0, { type: 'x', v: <ext> }] with a random extension: fixext 1–16 or ext 8, any type byte
    // (msgpackr's own Date, Set, Error, RegExp, BigInt, typed arrays and records among them).
    const head = Buffer.from('930000' + '82' + 'a474797065' + 'a178' + 'a176', 'hex');
    const fixext = 0xd4 + Math.floor(rand() * 5);
    const size = fixext === 0xd8 ? 16 : 1 << (fixext - 0xd4);
    const useFixext = rand() < 0.5;
    const n = useFixext ? size : Math.floor(rand() * 40);
    const ext = Buffer.concat([
      Buffer.from(useFixext ? [fixext] : [0xc7, n]),
      Buffer.from([Math.floor(rand() * 256)]),
      randomBytesFrom(rand, n),
    ]);
    return sealAt(at, Buffer.concat([head, ext]));
  },
  packedClasses: (_frame, at, rand) => {
    const rich = new Packr({ moreTypes: true, structuredClone: true, useRecords: rand() < 0.5 });
    const values = [new Date(), new Set([1]), new Float32Array(2), 10n ** 30n];
    return sealAt(
      at,
      rich.pack([Kind.message, 0, { type: 'x', v: values[Math.floor(rand() * values.length)] }]),
    );
  },
  badEnvelope: (_frame, at, rand) => {
    const bodies = [
      [9, 0, { type: 'x' }],
      [Kind.request, 0, { type: 'x' }],
      [Kind.message, 0, { notype: 1 }],
      [Kind.ping, 0, { type: 'x' }],
      [Kind.message, 0],
      { kind: 0 },
      [Kind.response, -1, { type: 'x' }],
      [Kind.errorResponse, 2 ** 33, null],
    ];
    return sealAt(at, encodePayload(bodies[Math.floor(rand() * bodies.length)]));
  },
};

describe('fuzz', () => {
  // Pure CPU, 18–41 s measured with both cores busy: its timeout only guards against a hang.
  it(`refuses every one of ${CASES} mutated frames and accepts every valid frame before it`, () => {
    const seed = Date.now() >>> 0;
    const rand = prng(seed);
    const names = Object.keys(mutations);
    const counts: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
    let done = 0;
    while (done < CASES) {
      const name = names[Math.floor(rand() * names.length)] as string;
      const at = Math.floor(rand() * (validFrames.length - 1));
      const mutated = (mutations[name] as Mutation)(validFrames[at] as Buffer, at, rand);
      if (!mutated) continue;
      const result = receive(Buffer.concat([...validFrames.slice(0, at), mutated]));
      if (result.accepted !== at || !result.refused) {
        throw new Error(`seed ${seed}, case ${done} (${name} at ${at}): ${JSON.stringify(result)}`);
      }
      counts[name] = (counts[name] as number) + 1;
      done += 1;
    }
    for (const name of names) expect(counts[name], name).toBeGreaterThan(1_000);
    expect(receive(Buffer.concat(validFrames))).toEqual({ accepted: validFrames.length, refused: false });
  }, 120_000);

  it('keeps serving a well-behaved helper while hundreds of bad clients come and go', async () => {
    // A length field flipped upwards leaves the server waiting for bytes that never come: the idle
    // timeout ends those, so it is short here.
    const pair = await openPair({
      server: { handshakeTimeoutMs: 300, idleTimeoutMs: 400, pingIntervalMs: 100 },
    });
    const serverReasons: CloseReason[] = [];
    pair.server.on('channel', (ch) => void ch.closed.then((r) => serverReasons.push(r)));
    pair.helper.onRequest((b) => ({ type: 'echo', n: b.n }));
    const rand = prng(0xc0ffee);

    const misbehave = async (i: number): Promise<void> => {
      const socket = net.createConnection(pair.socketPath);
      const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('error', () => {});
      const kind = i % 7;
      if (kind === 0) {
        socket.write(randomBytesFrom(rand, 1 + Math.floor(rand() * 2000)));
      } else if (kind === 1) {
        await clientHandshake(socket, { helperId: 'helper-1', secret: randomBytes(32) }).catch(() => {});
      } else if (kind === 2 && i % 28 === 2) {
        // Says nothing: the handshake timeout must end it.
      } else {
        const keys = await clientHandshake(socket, { helperId: 'helper-1', secret: pair.secret });
        socket.resume(); // the handshake leaves the socket paused; read on so the server's close is seen
        const sealer = new FrameSealer(keys.sendKey, keys.sendDirection);
        const frame = sealer.seal(validPayloads[0] as Buffer);
        const bad: Buffer[] = [
          mutations.bitFlips!(frame, 0, rand) ?? Buffer.alloc(4),
          Buffer.concat([frame, frame]), // replay
          Buffer.from([0xff, 0xff, 0xff, 0xff]),
          sealer.seal(randomBytesFrom(rand, 50)),
        ];
        const chosen = bad[i % bad.length] as Buffer;
        if (i % 5 === 0) socket.end(frame.subarray(0, frame.length - 3));
        else socket.write(chosen);
      }
      await gone;
    };

    const total = 350;
    for (let start = 0; start < total; start += 25) {
      await Promise.all(Array.from({ length: Math.min(25, total - start) }, (_, j) => misbehave(start + j)));
      expect(await pair.service.request({ type: 'alive', n: start })).toEqual({ type: 'echo', n: start });
    }
    await waitFor(() => pair.server.connections === 1, {
      what: 'bad connections to be gone',
      timeoutMs: 5_000,
    });
    expect(serverReasons.length).toBeGreaterThan(100);
    // Each was closed for what it sent, or (a length flipped upwards) for never finishing the frame.
    const codes = new Set(serverReasons.map((r) => r.code));
    expect(codes.has('bad_frame')).toBe(true);
    expect([...codes].filter((c) => c !== 'bad_frame' && c !== 'idle_timeout')).toEqual([]);
    expect(pair.service.isOpen && pair.helper.isOpen).toBe(true);
    await pair.close();
  });
});
