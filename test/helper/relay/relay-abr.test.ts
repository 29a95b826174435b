/**
 * The relay viewer's stream adapts: the helper's bitrate controller, fed by relay acks, against a model
 * of the API's relay in front of a 1 Mb/s link (frames wait in the viewer's queue while the link
 * drains it; one that waited 500 ms takes the whole queue with it, as viewer-queue.ts does). On a fake
 * clock: the rate falls below the link within seconds and the queue stops dropping.
 */
import { describe, expect, it } from 'vitest';
import { BitrateController } from '../../../src/helper/pipeline/bitrate-controller.js';
import { RelayDeliveryFeedback } from '../../../src/helper/relay/relay-delivery-feedback.js';

const LINK_BPS = 1_000_000;
const ONE_WAY_MS = 20;
const QUEUE_DROP_MS = 500;
const FRAME_MS = 33;

interface Queued {
  ts: number;
  bytes: number;
  enqueuedAt: number;
}

function run(seconds: number) {
  const controller = new BitrateController({ targetBps: 3_870_000 });
  const feedback = new RelayDeliveryFeedback();
  const queue: Queued[] = [];
  const acks: { at: number; ts: number }[] = [];
  let linkFreeAt = 0;
  let dropped = 0;
  const rates: { t: number; bps: number }[] = [];
  for (let t = 0; t < seconds * 1000; t++) {
    if (t % FRAME_MS === 0) {
      const bytes = Math.round((controller.bitrate * FRAME_MS) / 8000);
      feedback.onSent(t, bytes, t);
      controller.onSent(bytes, t);
      queue.push({ ts: t, bytes, enqueuedAt: t });
    }
    // The API hands the link the head of the queue whenever the link is free.
    while (queue.length && linkFreeAt <= t) {
      if (t - queue[0]!.enqueuedAt >= QUEUE_DROP_MS) {
        dropped += queue.length;
        queue.length = 0;
        break;
      }
      const f = queue.shift()!;
      linkFreeAt = Math.max(linkFreeAt, t) + (f.bytes * 8000) / LINK_BPS;
      acks.push({ at: linkFreeAt + 2 * ONE_WAY_MS, ts: f.ts });
    }
    while (acks.length && acks[0]!.at <= t) {
      const r = feedback.onAck(acks.shift()!.ts, t);
      if (r) controller.onReport(r, t);
    }
    if (t % 1000 === 0) rates.push({ t, bps: controller.bitrate });
  }
  return { controller, rates, dropped };
}

describe('relay ABR', () => {
  it('brings a 1.5 Mb/s start under a 1 Mb/s link within 5 s and keeps it there without drops', () => {
    const first = run(5);
    expect(first.controller.bitrate).toBeLessThan(LINK_BPS);
    expect(first.controller.bitrate).toBeGreaterThanOrEqual(300_000);
    const long = run(30);
    const late = long.rates.filter((r) => r.t >= 10_000);
    expect(Math.max(...late.map((r) => r.bps))).toBeLessThan(1.25 * LINK_BPS);
    // Drops happen while the rate is found, then stop (a probe now and then may cost one queue).
    const early = run(10).dropped;
    expect(long.dropped - early).toBeLessThanOrEqual(early);
  });
});
