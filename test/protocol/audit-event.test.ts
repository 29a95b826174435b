import { describe, expect, it } from 'vitest';
import { agentEventMessage, AuditEventBudget, desktopAuditEvent } from '../../src/protocol/audit-event.js';
import { parseHelperToService } from '../../src/protocol/ipc.js';

const file = {
  kind: 'file_transfer',
  desktop: 'desk-1',
  direction: 'upload',
  name: 'report (1).pdf',
  size: 1234,
  outcome: 'complete',
};

describe('desktopAuditEvent', () => {
  it('accepts the three kinds with their metadata', () => {
    expect(desktopAuditEvent(file, '')).toEqual(file);
    const consent = { kind: 'consent', desktop: 'desk-1', outcome: 'timed_out' };
    expect(desktopAuditEvent(consent, '')).toEqual(consent);
    const cut = { kind: 'session_cut', desktop: 'desk-1', reason: 'idle' };
    expect(desktopAuditEvent(cut, '')).toEqual(cut);
  });

  it('accepts "chat used" with nothing but the desktop, and a cut by the person at the machine', () => {
    expect(desktopAuditEvent({ kind: 'chat', desktop: 'desk-1' }, '')).toEqual({
      kind: 'chat',
      desktop: 'desk-1',
    });
    expect(() => desktopAuditEvent({ kind: 'chat', desktop: 'desk-1', text: 'hello' }, 'event')).toThrow(
      /text: is not a known field/,
    );
    const byUser = { kind: 'session_cut', desktop: 'desk-1', reason: 'user' };
    expect(desktopAuditEvent(byUser, '')).toEqual(byUser);
  });

  it.each([
    ['an unknown kind', { ...file, kind: 'chat_text' }, /kind/],
    ['a field beyond the metadata (contents)', { ...file, bytes: 'AAAA' }, /bytes: is not a known field/],
    ['an empty name', { ...file, name: '' }, /name/],
    ['a name over 255 characters', { ...file, name: 'a'.repeat(256) }, /name/],
    ['a negative size', { ...file, size: -1 }, /size/],
    ['an outcome that is not a code', { ...file, outcome: 'Done!' }, /outcome/],
    ['a bad desktop id', { ...file, desktop: 'a/b' }, /desktop/],
    ['a consent outcome not in the list', { kind: 'consent', desktop: 'd', outcome: 'maybe' }, /outcome/],
  ])('refuses %s', (_what, v, err) => {
    expect(() => desktopAuditEvent(v, 'event')).toThrow(err);
  });

  it('is what the pipe checks in a helper’s audit message', () => {
    expect(parseHelperToService({ type: 'audit', event: file })).toEqual({ type: 'audit', event: file });
    expect(() => parseHelperToService({ type: 'audit', event: { ...file, size: 'big' } })).toThrow(
      /event\.size/,
    );
  });

  it('is what the agent link checks in an event message, with the OS session', () => {
    const msg = { type: 'event', targetSessionId: 2, event: file };
    expect(agentEventMessage(msg, '')).toEqual(msg);
    expect(() => agentEventMessage({ ...msg, targetSessionId: -1 }, '')).toThrow(/targetSessionId/);
  });
});

describe('AuditEventBudget', () => {
  it('admits `max` per window, counts the refusals, and starts again in the next window', () => {
    let now = 0;
    const b = new AuditEventBudget(() => now, 3, 1000);
    expect([b.admit(), b.admit(), b.admit(), b.admit(), b.admit()]).toEqual([true, true, true, false, false]);
    expect(b.droppedThisWindow).toBe(2);
    now = 999;
    expect(b.admit()).toBe(false);
    now = 1000;
    expect(b.admit()).toBe(true);
    expect(b.droppedThisWindow).toBe(0);
  });
});
