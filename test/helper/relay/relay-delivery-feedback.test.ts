/**
 * Receiver statistics from relay acks: delivered and dropped frames in 1200-byte units, the RTT from
 * send to ack, one report per 500 ms at most, bounded memory.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_TRACKED_FRAMES,
  RelayDeliveryFeedback,
} from '../../../src/helper/relay/relay-delivery-feedback.js';

describe('RelayDeliveryFeedback', () => {
  it('counts frames acked as delivered and frames passed over by a later ack as lost', () => {
    const f = new RelayDeliveryFeedback();
    f.onSent(1, 2400, 0);
    f.onSent(2, 1200, 10);
    f.onSent(3, 1200, 20);
    const first = f.onAck(1, 100);
    expect(first).toMatchObject({ highestSequence: 2, cumulativeLost: 0, fractionLost: 0, rttMs: 100 });
    // Frame 2 never comes back: the API dropped it. The ack of 3 says so, in the next report.
    expect(f.onAck(3, 400)).toBeUndefined(); // within 500 ms of the last report
    f.onSent(4, 1200, 600);
    const next = f.onAck(4, 700);
    expect(next).toMatchObject({ highestSequence: 5, cumulativeLost: 1, fractionLost: 1 / 3 });
    // The RTT is the median of the samples since the last report: 380, 100 → the upper middle.
    expect(next?.rttMs).toBe(380);
    expect(f.stats).toBe(next);
  });

  it('ignores an ack for a frame it does not know or has counted', () => {
    const f = new RelayDeliveryFeedback();
    f.onSent(1, 1200, 0);
    expect(f.onAck(99, 10)).toBeUndefined();
    expect(f.onAck(1, 20)).toMatchObject({ highestSequence: 1 });
    expect(f.onAck(1, 600)).toBeUndefined();
    expect(f.stats?.highestSequence).toBe(1);
  });

  it('keeps at most MAX_TRACKED_FRAMES frames, counting older ones lost', () => {
    const f = new RelayDeliveryFeedback();
    for (let i = 0; i < MAX_TRACKED_FRAMES + 10; i++) f.onSent(i, 1200, i);
    const r = f.onAck(MAX_TRACKED_FRAMES + 9, 5000);
    expect(r).toMatchObject({
      highestSequence: MAX_TRACKED_FRAMES + 10,
      cumulativeLost: MAX_TRACKED_FRAMES + 9,
    });
  });
});
