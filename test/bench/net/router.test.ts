import { describe, expect, it } from 'vitest';
import { ImpairingRouter, ipv4Destination } from '../../../bench/net/router.js';
import { FakeClock } from '../../fixtures/fake-clock.js';

/** A minimal IPv4 header to `dst`, with `tag` in the identification field. */
function packet(dst: string, tag: number): Uint8Array {
  const p = new Uint8Array(40);
  p[0] = 0x45;
  p[4] = tag >> 8;
  p[5] = tag & 0xff;
  dst.split('.').forEach((o, i) => (p[16 + i] = Number(o)));
  return p;
}
const tagOf = (p: Uint8Array): number => (p[4]! << 8) | p[5]!;

function setup(): { clock: FakeClock; router: ImpairingRouter; out: { at: number; tag: number }[] } {
  const clock = new FakeClock(1000);
  const out: { at: number; tag: number }[] = [];
  const router = new ImpairingRouter({
    viewerPrefix: '10.77.1.',
    seed: 1,
    timers: clock,
    write: (p) => out.push({ at: clock.now(), tag: tagOf(p) }),
  });
  return { clock, router, out };
}

describe('ImpairingRouter', () => {
  it('reads the destination of IPv4 packets only', () => {
    expect(ipv4Destination(packet('10.77.2.2', 0))).toBe('10.77.2.2');
    const v6 = new Uint8Array(40);
    v6[0] = 0x60;
    expect(ipv4Destination(v6)).toBeUndefined();
    expect(ipv4Destination(new Uint8Array(10))).toBeUndefined();
  });

  it('holds each direction by its own delay and lets packets out in order when due', async () => {
    const { clock, router, out } = setup();
    router.impair(
      { delayMs: 30, jitterMs: 0, loss: 0, reorder: 0 },
      { delayMs: 10, jitterMs: 0, loss: 0, reorder: 0 },
    );
    router.receive(packet('10.77.1.2', 1)); // down, due at 1030
    router.receive(packet('10.77.2.2', 2)); // up, due at 1010
    await clock.advance(5);
    router.receive(packet('10.77.1.2', 3)); // down, due at 1035
    await clock.advance(100);
    expect(out).toEqual([
      { at: 1010, tag: 2 },
      { at: 1030, tag: 1 },
      { at: 1035, tag: 3 },
    ]);
    expect(router.down.stats.packets).toBe(2);
    expect(router.up.stats.packets).toBe(1);
  });

  it('sends at once without impairment', () => {
    const { router, out } = setup();
    router.receive(packet('10.77.1.2', 7));
    expect(out).toEqual([{ at: 1000, tag: 7 }]);
  });

  it('loses queued packets and new ones during an outage, then carries traffic again', async () => {
    const { clock, router, out } = setup();
    router.impair(
      { delayMs: 50, jitterMs: 0, loss: 0, reorder: 0 },
      { delayMs: 50, jitterMs: 0, loss: 0, reorder: 0 },
    );
    router.receive(packet('10.77.1.2', 1));
    router.outage(2000);
    await clock.advance(1000);
    router.receive(packet('10.77.2.2', 2));
    await clock.advance(1000);
    router.receive(packet('10.77.2.2', 3));
    await clock.advance(100);
    expect(out).toEqual([{ at: 3050, tag: 3 }]);
    expect(router.up.stats.outageDropped).toBe(1);
  });

  it('drops what is not IPv4', () => {
    const { router, out } = setup();
    const v6 = new Uint8Array(40);
    v6[0] = 0x60;
    router.receive(v6);
    expect(out).toEqual([]);
    expect(router.dropped).toBe(1);
  });
});
