import { describe, expect, it } from 'vitest';
import { diffSessions } from '../../../src/service/sessions/session-diff.js';
import { session } from './sessions.js';

const kinds = (events: ReturnType<typeof diffSessions>): string[] =>
  events.map((e) => `${e.kind}:${e.sessionId}`);

describe('diffSessions', () => {
  it('reports nothing when the lists are equal', () => {
    expect(diffSessions([session(1), session(2)], [session(1), session(2)])).toEqual([]);
  });

  it('reports a new session as logon, carrying the session', () => {
    const added = session(3);
    expect(diffSessions([session(1)], [session(1), added])).toEqual([
      { kind: 'logon', sessionId: 3, session: added },
    ]);
  });

  it('reports a session that went as logoff, without a session', () => {
    expect(diffSessions([session(1), session(2)], [session(2)])).toEqual([{ kind: 'logoff', sessionId: 1 }]);
  });

  it('reports entering locked as lock and leaving it as unlock', () => {
    const locked = session(1, { state: 'locked' });
    expect(diffSessions([session(1)], [locked])).toEqual([{ kind: 'lock', sessionId: 1, session: locked }]);
    expect(kinds(diffSessions([locked], [session(1)]))).toEqual(['unlock:1']);
  });

  it('reports entering disconnected as disconnect and leaving it as connect', () => {
    const gone = session(1, { state: 'disconnected' });
    expect(kinds(diffSessions([session(1)], [gone]))).toEqual(['disconnect:1']);
    expect(kinds(diffSessions([gone], [session(1, { state: 'connected' })]))).toEqual(['connect:1']);
  });

  it('reports no event between active, connected and idle', () => {
    const active = session(1);
    const connected = session(1, { state: 'connected' });
    const idle = session(1, { state: 'idle' });
    expect(diffSessions([active], [connected])).toEqual([]);
    expect(diffSessions([connected], [idle])).toEqual([]);
    expect(diffSessions([idle], [active])).toEqual([]);
  });

  it('orders connect before lock, and unlock before disconnect', () => {
    const locked = session(1, { state: 'locked' });
    const gone = session(1, { state: 'disconnected' });
    expect(kinds(diffSessions([gone], [locked]))).toEqual(['connect:1', 'lock:1']);
    expect(kinds(diffSessions([locked], [gone]))).toEqual(['unlock:1', 'disconnect:1']);
  });

  it('reports another owner on the same display as logoff then logon', () => {
    const bob = session(1, { username: 'bob', x11: { display: ':1', uid: 1001, gid: 1001 } });
    expect(diffSessions([session(1)], [bob])).toEqual([
      { kind: 'logoff', sessionId: 1 },
      { kind: 'logon', sessionId: 1, session: bob },
    ]);
  });

  it('reports no event for a change of console flag or xauthority', () => {
    const moved = session(1, {
      console: true,
      x11: { display: ':1', uid: 1000, gid: 1000, xauthority: '/x' },
    });
    expect(diffSessions([session(1)], [moved])).toEqual([]);
  });

  it('orders the events of several sessions by session id, whatever the input order', () => {
    const before = [session(5), session(2, { state: 'locked' }), session(9)];
    const after = [session(7), session(2), session(9, { state: 'disconnected' })];
    expect(kinds(diffSessions(before, after))).toEqual(['unlock:2', 'logoff:5', 'logon:7', 'disconnect:9']);
  });
});
