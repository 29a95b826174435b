import { describe, expect, it } from 'vitest';
import { RelayTicketStore } from '../../../src/api/relay/relay-tickets.js';
import { RELAY_TICKET_PATTERN } from '../../../src/protocol/relay.js';
import { FakeClock } from '../../fixtures/fake-clock.js';

const make = (clock = new FakeClock(), ttl = 30_000) => ({
  clock,
  store: new RelayTicketStore('abc123', clock, ttl),
});

describe('relay tickets', () => {
  it('mints two distinct tickets that name this instance and match the protocol pattern', () => {
    const { store } = make();
    const pair = store.mint('desk-1', 'alice');
    expect(pair.agent).not.toBe(pair.viewer);
    for (const t of [pair.agent, pair.viewer]) {
      expect(t.startsWith('abc123.')).toBe(true);
      expect(RELAY_TICKET_PATTERN.test(t)).toBe(true);
    }
  });

  it('opens its own side once, for its desktop and viewer', () => {
    const { store } = make();
    const pair = store.mint('desk-1', 'alice');
    expect(store.spend(pair.agent, 'agent')).toEqual({ desktopId: 'desk-1', side: 'agent', viewer: 'alice' });
    expect(store.spend(pair.viewer, 'viewer')).toEqual({
      desktopId: 'desk-1',
      side: 'viewer',
      viewer: 'alice',
    });
  });

  it('refuses a ticket the second time', () => {
    const { store } = make();
    const pair = store.mint('desk-1', 'alice');
    store.spend(pair.agent, 'agent');
    expect(store.spend(pair.agent, 'agent')).toEqual({ refused: 'unknown' });
  });

  it('refuses a ticket presented at the other side, and it is spent by that try', () => {
    const { store } = make();
    const pair = store.mint('desk-1', 'alice');
    expect(store.spend(pair.agent, 'viewer')).toEqual({ refused: 'wrong_side' });
    expect(store.spend(pair.agent, 'agent')).toEqual({ refused: 'unknown' });
  });

  it('refuses a ticket at its expiry, not a millisecond before', async () => {
    const { clock, store } = make(new FakeClock(), 30_000);
    const a = store.mint('desk-1', 'alice');
    const b = store.mint('desk-2', 'alice');
    await clock.advance(29_999);
    expect(store.spend(a.agent, 'agent')).toMatchObject({ desktopId: 'desk-1' });
    await clock.advance(1);
    // Swept by then: an expired ticket is as unknown as a never-minted one.
    expect(store.pending).toBe(0);
    expect(store.spend(b.agent, 'agent')).toEqual({ refused: 'unknown' });
  });

  it('says "expired" for a ticket presented after its expiry but before a sweep', async () => {
    const { clock, store } = make(new FakeClock(), 1000);
    const a = store.mint('desk-1', 'alice');
    await clock.advance(1000);
    expect(store.spend(a.viewer, 'viewer')).toEqual({ refused: 'expired' });
  });

  it('tells a ticket of another instance (named) from an unknown one, and a malformed one from both', () => {
    const { store } = make();
    const other = new RelayTicketStore('fff000', new FakeClock()).mint('desk-1', 'alice');
    expect(other.agent.startsWith('fff000.')).toBe(true);
    expect(store.spend(other.agent, 'agent')).toEqual({ refused: 'other_instance', instance: 'fff000' });
    expect(store.spend(other.viewer, 'viewer')).toEqual({ refused: 'other_instance', instance: 'fff000' });
    expect(store.spend(`abc123.${'B'.repeat(43)}`, 'agent')).toEqual({ refused: 'unknown' });
    for (const bad of ['', 'abc123', 'abc123.short', `ABC.${'B'.repeat(43)}`, `abc123.${'B'.repeat(42)}!`]) {
      expect(store.spend(bad, 'agent')).toEqual({ refused: 'malformed' });
    }
  });

  it('revokes the unused tickets of a desktop that ended', () => {
    const { store } = make();
    const a = store.mint('desk-1', 'alice');
    const b = store.mint('desk-2', 'bob');
    store.revoke('desk-1');
    expect(store.spend(a.viewer, 'viewer')).toEqual({ refused: 'unknown' });
    expect(store.spend(b.viewer, 'viewer')).toMatchObject({ desktopId: 'desk-2' });
    expect(store.pending).toBe(1);
  });
});

describe('relay ticket lifetimes around a consent prompt', () => {
  it('keeps the helper’s ticket for its own, longer lifetime', async () => {
    const { clock, store } = make(new FakeClock(), 30_000);
    const pair = store.mint('desk-1', 'alice', 360_000);
    await clock.advance(300_000);
    expect(store.spend(pair.agent, 'agent')).toMatchObject({ desktopId: 'desk-1' });
  });

  it('starts the viewer’s 30 s when the start is answered, not when it was minted', async () => {
    const { clock, store } = make(new FakeClock(), 30_000);
    const pair = store.mint('desk-1', 'alice', 360_000);
    await clock.advance(25_000);
    store.renewViewer('desk-1');
    await clock.advance(29_999);
    expect(store.spend(pair.viewer, 'viewer')).toMatchObject({ desktopId: 'desk-1' });
  });
});
