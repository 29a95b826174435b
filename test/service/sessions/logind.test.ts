import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  localDisplayNumber,
  logindState,
  parseSessionIds,
  parseShowSession,
  readLogindSessions,
  x11SessionsByDisplay,
  type LogindSession,
} from '../../../src/service/sessions/logind.js';
import { writeLoginctlStub } from './loginctl-stub.js';

const fixture = (name: string): string =>
  readFileSync(join(import.meta.dirname, 'fixtures', 'logind', name), 'utf8');

function logind(over: Partial<LogindSession> = {}): LogindSession {
  return {
    id: '2',
    name: 'alice',
    uid: 1000,
    type: 'x11',
    display: ':0',
    state: 'active',
    active: true,
    lockedHint: false,
    remote: false,
    seat: 'seat0',
    class: 'user',
    ...over,
  };
}

describe('parseSessionIds', () => {
  it('reads the ids of the JSON list (systemd ≥ 250)', () => {
    expect(parseSessionIds(fixture('list-sessions.json'))).toEqual(['2', '5', 'c1', '7']);
  });

  it('reads the first column of the table older versions print', () => {
    expect(parseSessionIds(fixture('list-sessions.txt'))).toEqual(['2', '5', 'c1', '7']);
  });

  it('gives no ids for empty output and drops what cannot be an id', () => {
    expect(parseSessionIds('\n')).toEqual([]);
    expect(parseSessionIds('[]')).toEqual([]);
    expect(parseSessionIds('[{"session":"--all"},{"session":3},{"session":"4"}]')).toEqual(['4']);
    expect(parseSessionIds('SESSION UID USER\n1 0 root\n\n1 sessions listed.')).toEqual(['1']);
  });
});

describe('parseShowSession', () => {
  it('reads one session per block of recorded show-session output', () => {
    const sessions = parseShowSession(fixture('show-session.txt'));
    expect(sessions.map((s) => s.id)).toEqual(['2', '5', 'c1', '7']);
    expect(sessions[0]).toEqual(logind());
    expect(sessions[1]).toMatchObject({
      name: 'bob',
      uid: 1001,
      display: ':10',
      remote: true,
      seat: '',
      active: false,
    });
    expect(sessions[2]).toMatchObject({ class: 'greeter', state: 'online' });
  });

  it('keeps values that contain "=" and drops blocks without an Id', () => {
    const sessions = parseShowSession('Name=a=b\nType=x11\n\nId=9\nName=x=y\nUser=oops\n');
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ id: '9', name: 'x=y', uid: undefined, active: false });
  });
});

describe('x11SessionsByDisplay', () => {
  it('keeps X sessions with a local display, preferring the user session over the greeter', () => {
    const byDisplay = x11SessionsByDisplay(parseShowSession(fixture('show-session.txt')));
    expect([...byDisplay.keys()].sort((a, b) => a - b)).toEqual([0, 10]);
    expect(byDisplay.get(0)?.id).toBe('2');
    expect(byDisplay.get(10)?.name).toBe('bob');
  });

  it('prefers a session that is not closing, and ignores remote displays', () => {
    const closing = logind({ id: '3', state: 'closing', active: false });
    const online = logind({ id: '4', state: 'online', active: false });
    const tcp = logind({ id: '5', display: 'host:0' });
    expect(x11SessionsByDisplay([closing, online, tcp]).get(0)?.id).toBe('4');
    expect(x11SessionsByDisplay([tcp]).size).toBe(0);
  });
});

describe('localDisplayNumber', () => {
  it('accepts :N and :N.S and nothing else', () => {
    expect(localDisplayNumber(':0')).toBe(0);
    expect(localDisplayNumber(':12.1')).toBe(12);
    for (const bad of ['', '0', 'host:1', ':', ':1x', 'unix:1'])
      expect(localDisplayNumber(bad)).toBeUndefined();
  });
});

describe('logindState', () => {
  it('maps active, online, closing and the lock hint to porthole states', () => {
    expect(logindState(logind())).toBe('active');
    expect(logindState(logind({ state: 'online', active: false }))).toBe('connected');
    expect(logindState(logind({ lockedHint: true }))).toBe('locked');
    expect(logindState(logind({ state: 'closing', active: false, lockedHint: true }))).toBe('disconnected');
  });
});

describe('readLogindSessions', () => {
  it('reports logind as unavailable, without throwing, when loginctl does not exist', async () => {
    const result = await readLogindSessions('/nonexistent/loginctl');
    expect(result).toMatchObject({ ok: false, code: 'ENOENT' });
  });

  it('reports logind as unavailable when loginctl exits non-zero, as it does without systemd', async () => {
    // `false` plays a loginctl that finds no bus, as the real one does on this build machine.
    expect(await readLogindSessions('/bin/false')).toMatchObject({ ok: false, code: 'exit 1' });
  });

  it('lists then shows the sessions through a real loginctl process', async () => {
    const stub = await writeLoginctlStub(fixture('list-sessions.json'), fixture('show-session.txt'));
    try {
      const result = await readLogindSessions(stub.path);
      expect(result.ok && result.sessions.map((s) => s.id)).toEqual(['2', '5', 'c1', '7']);
      const calls = (await readFile(stub.argsLog, 'utf8')).trim().split('\n');
      expect(calls[0]).toMatch(/^list-sessions /);
      expect(calls[1]).toMatch(/^show-session .*-p LockedHint.* -- 2 5 c1 7$/);
    } finally {
      await stub.dispose();
    }
  });

  it('does not run show-session when there are no sessions', async () => {
    const stub = await writeLoginctlStub('[]', '');
    try {
      expect(await readLogindSessions(stub.path)).toEqual({ ok: true, sessions: [] });
      expect((await readFile(stub.argsLog, 'utf8')).trim().split('\n')).toHaveLength(1);
    } finally {
      await stub.dispose();
    }
  });
});
