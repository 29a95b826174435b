import { describe, expect, it } from 'vitest';
import { FakeSessionDetector } from '../../../src/service/sessions/fake-session-detector.js';
import type { SessionEvent } from '../../../src/service/sessions/session-detector.js';
import { session } from './sessions.js';

function started(initial = [session(1)]): { fake: FakeSessionDetector; events: SessionEvent[] } {
  const fake = new FakeSessionDetector(initial);
  const events: SessionEvent[] = [];
  void fake.start((e) => events.push(e));
  return { fake, events };
}

describe('FakeSessionDetector', () => {
  it('lists its sessions sorted by id, as copies the caller cannot change', async () => {
    const fake = new FakeSessionDetector([session(4), session(2)]);
    const listed = await fake.list();
    expect(listed.map((s) => s.sessionId)).toEqual([2, 4]);
    listed[0]!.username = 'mallory';
    expect((await fake.list())[0]!.username).toBe('alice');
  });

  it('emits logon on add and logoff on remove', () => {
    const { fake, events } = started();
    fake.add(session(2));
    expect(fake.remove(1)).toBe(true);
    expect(fake.remove(1)).toBe(false);
    expect(events.map((e) => `${e.kind}:${e.sessionId}`)).toEqual(['logon:2', 'logoff:1']);
    expect(events[0]!.session).toEqual(session(2));
  });

  it('emits lock, unlock, disconnect and connect on update', () => {
    const { fake, events } = started();
    fake.update(1, { state: 'locked' });
    fake.update(1, { state: 'active' });
    fake.update(1, { state: 'disconnected' });
    fake.update(1, { state: 'active' });
    expect(events.map((e) => e.kind)).toEqual(['lock', 'unlock', 'disconnect', 'connect']);
    expect(events[0]!.session?.state).toBe('locked');
  });

  it('emits the whole difference on set', () => {
    const { fake, events } = started([session(1), session(2)]);
    fake.set([session(2, { state: 'locked' }), session(3)]);
    expect(events.map((e) => `${e.kind}:${e.sessionId}`)).toEqual(['logoff:1', 'lock:2', 'logon:3']);
  });

  it('emits nothing before start and after stop, yet keeps the changes', async () => {
    const fake = new FakeSessionDetector();
    const events: SessionEvent[] = [];
    fake.add(session(1));
    await fake.start((e) => events.push(e));
    await fake.stop();
    fake.add(session(2));
    expect(events).toEqual([]);
    expect((await fake.list()).map((s) => s.sessionId)).toEqual([1, 2]);
  });

  it('refuses a duplicate id, an update of a missing id and a second start', async () => {
    const { fake } = started();
    expect(() => fake.add(session(1))).toThrow(/already exists/);
    expect(() => fake.update(7, { state: 'locked' })).toThrow(/no session 7/);
    expect(() => new FakeSessionDetector([session(1), session(1)])).toThrow(/twice/);
    await expect(fake.start(() => {})).rejects.toThrow(/already started/);
  });
});
