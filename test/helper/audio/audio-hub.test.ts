import { describe, expect, it } from 'vitest';
import { AudioError, type AudioCapture, type PcmChunk } from '../../../src/helper/audio/audio-capture.js';
import { AudioHub, type OpusPacket } from '../../../src/helper/audio/audio-hub.js';
import { toneFrame } from '../../../src/helper/audio/fake-audio-capture.js';
import { FRAME_BYTES } from '../../../src/helper/audio/pcm-frames.js';
import { silentLogger } from '../../../src/log/logger.js';
import { settle } from '../../fixtures/fake-clock.js';

/** A capture the test drives frame by frame, counting starts and closes. */
function scriptedCaptures() {
  const made: { emit(pcm: Buffer, t: number): void; end(msg: string): void; closed: boolean }[] = [];
  const start = async (): Promise<AudioCapture> => {
    const pcm = new Set<(c: PcmChunk) => void>();
    const ended = new Set<(e: AudioError) => void>();
    const c = {
      closed: false,
      emit: (data: Buffer, timestampUs: number) => pcm.forEach((cb) => cb({ data, timestampUs })),
      end: (msg: string) => ended.forEach((cb) => cb(new AudioError('failed', msg))),
    };
    made.push(c);
    return {
      onPcm: (cb) => (pcm.add(cb), () => pcm.delete(cb)),
      onEnded: (cb) => (ended.add(cb), () => ended.delete(cb)),
      close: async () => {
        c.closed = true;
        pcm.clear();
      },
    };
  };
  return { made, start };
}

/** An encoder that "encodes" a frame into its first byte, counting calls and closes. */
function countingEncoder() {
  const e = { encoded: 0, closed: 0 };
  return {
    e,
    create: () => ({
      encode: (pcm: Buffer) => (e.encoded++, Buffer.from([pcm[0] ?? 0, 1])),
      close: () => void e.closed++,
    }),
  };
}

const SILENCE = Buffer.alloc(FRAME_BYTES);
const tone = (k: number) => toneFrame(1000, 8000, k * 960);

describe('AudioHub', () => {
  it('captures only while someone listens, once for all listeners', async () => {
    const caps = scriptedCaptures();
    const enc = countingEncoder();
    const hub = new AudioHub({ startCapture: caps.start, createEncoder: enc.create, log: silentLogger });
    expect(caps.made).toHaveLength(0);
    const a: OpusPacket[] = [];
    const b: OpusPacket[] = [];
    const offA = hub.subscribe((p) => a.push(p));
    const offB = hub.subscribe((p) => b.push(p));
    await settle();
    expect(caps.made).toHaveLength(1);
    caps.made[0]!.emit(tone(1), 5_000);
    expect(enc.e.encoded).toBe(1);
    expect(a).toEqual([{ data: expect.any(Buffer), timestampUs: 5_000 }]);
    expect(b).toHaveLength(1);
    offA();
    await settle();
    expect(caps.made[0]!.closed).toBe(false);
    offB();
    await settle();
    expect(caps.made[0]!.closed).toBe(true);
    expect(enc.e.closed).toBe(1);
    expect(hub.active).toBe(false);
    // The next listener starts a new capture.
    const offC = hub.subscribe(() => {});
    await settle();
    expect(caps.made).toHaveLength(2);
    offC();
    await hub.close();
    expect(caps.made[1]!.closed).toBe(true);
  });

  it('skips digital silence after a hangover of silent packets, and resumes at the next sound', async () => {
    const caps = scriptedCaptures();
    const enc = countingEncoder();
    const hub = new AudioHub({
      startCapture: caps.start,
      createEncoder: enc.create,
      log: silentLogger,
      hangoverFrames: 3,
    });
    const got: OpusPacket[] = [];
    hub.subscribe((p) => got.push(p));
    await settle();
    const cap = caps.made[0]!;
    cap.emit(tone(0), 0);
    for (let i = 1; i <= 10; i++) cap.emit(SILENCE, i * 20_000);
    cap.emit(tone(11), 220_000);
    // One tone frame, three silent ones of hangover, seven skipped, then the tone again.
    expect(got.map((p) => p.timestampUs)).toEqual([0, 20_000, 40_000, 60_000, 220_000]);
    expect(hub.counters).toEqual({ frames: 12, encoded: 5, skippedSilent: 7 });
    expect(enc.e.encoded).toBe(5);
    await hub.close();
  });

  it('tells listeners when the session has no sound to capture, and tries again for the next one', async () => {
    let attempts = 0;
    const hub = new AudioHub({
      startCapture: async () => {
        attempts++;
        throw new AudioError('unavailable', 'no PulseAudio server');
      },
      createEncoder: countingEncoder().create,
      log: silentLogger,
    });
    const reasons: string[] = [];
    const off = hub.subscribe(
      () => {},
      (r) => reasons.push(r),
    );
    await settle();
    expect(reasons).toEqual(['no PulseAudio server']);
    expect(hub.active).toBe(false);
    off();
    hub.subscribe(() => {});
    await settle();
    expect(attempts).toBe(2);
    await hub.close();
  });

  it('reports a capture that ends by itself and closes what it held', async () => {
    const caps = scriptedCaptures();
    const enc = countingEncoder();
    const hub = new AudioHub({ startCapture: caps.start, createEncoder: enc.create, log: silentLogger });
    const reasons: string[] = [];
    hub.subscribe(
      () => {},
      (r) => reasons.push(r),
    );
    await settle();
    caps.made[0]!.end('parec: connection terminated');
    await settle();
    expect(reasons).toEqual(['parec: connection terminated']);
    expect(caps.made[0]!.closed).toBe(true);
    expect(enc.e.closed).toBe(1);
    await hub.close();
  });

  it('a capture that finishes starting after the last listener left is closed at once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const caps = scriptedCaptures();
    const hub = new AudioHub({
      startCapture: async () => {
        await gate;
        return caps.start();
      },
      createEncoder: countingEncoder().create,
      log: silentLogger,
    });
    const off = hub.subscribe(() => {});
    off();
    release();
    await settle();
    expect(caps.made).toHaveLength(1);
    expect(caps.made[0]!.closed).toBe(true);
    await hub.close();
  });
});
