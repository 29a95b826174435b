/**
 * The messages of consent and session limits (issue 17 §2) at each boundary: the pipe's
 * consent_prompt/consent_answer and desktop_start.limits, the agent link's `waiting` message and the
 * consent codes (and what an API without the `consent` feature hears instead), and the viewer's
 * `session_limit` notice.
 */
import { describe, expect, it } from 'vitest';
import { parseHelperToService, parseServiceToHelper } from '../../src/protocol/ipc.js';
import { agentReply, commandWaiting } from '../../src/protocol/api.js';
import {
  API_LINK_V1,
  apiLinkHeaders,
  errorBodyForPeer,
  parseApiLinkPeer,
  type ApiLinkPeer,
} from '../../src/protocol/api-version.js';
import { parseHelperToViewer } from '../../src/protocol/datachannel.js';

const prompt = {
  type: 'consent_prompt',
  viewer: 'alice',
  asks: { control: true, files: false },
  timeoutMs: 30_000,
};

describe('consent on the pipe', () => {
  it('carries a prompt service → helper and its answer helper → service, and not the other way', () => {
    expect(parseServiceToHelper(prompt)).toEqual(prompt);
    expect(() => parseHelperToService(prompt)).toThrow(/type/);
    const answer = { type: 'consent_answer', outcome: 'unavailable', reason: 'zenity is not installed' };
    expect(parseHelperToService(answer)).toEqual(answer);
    expect(() => parseServiceToHelper(answer)).toThrow(/type/);
  });

  it.each([
    [{ ...prompt, viewer: '' }, /viewer/],
    [{ ...prompt, timeoutMs: 999 }, /timeoutMs/],
    [{ ...prompt, asks: { control: true } }, /asks\.files/],
    [{ ...prompt, text: 'click Allow' }, /text: is not a known field/],
  ])('refuses a prompt %j', (body, message) => {
    expect(() => parseServiceToHelper(body)).toThrow(message);
  });

  it('carries absentAfterIdleMs (bounded) and the `absent` answer', () => {
    expect(parseServiceToHelper({ ...prompt, absentAfterIdleMs: 300_000 })).toEqual({
      ...prompt,
      absentAfterIdleMs: 300_000,
    });
    expect(() => parseServiceToHelper({ ...prompt, absentAfterIdleMs: 10 })).toThrow(/absentAfterIdleMs/);
    expect(() => parseServiceToHelper({ ...prompt, absentAfterIdleMs: 90_000_000 })).toThrow(
      /absentAfterIdleMs/,
    );
    expect(parseHelperToService({ type: 'consent_answer', outcome: 'absent', reason: 'idle' })).toMatchObject(
      {
        outcome: 'absent',
      },
    );
  });

  it('carries desktop_start.blockLocalInput only as true', () => {
    const start = {
      type: 'desktop_start',
      sessionId: 'desk-1',
      offer: 'v=0',
      iceServers: [],
      displayIndex: 0,
    };
    expect(parseServiceToHelper({ ...start, blockLocalInput: true })).toMatchObject({
      blockLocalInput: true,
    });
    expect(() => parseServiceToHelper({ ...start, blockLocalInput: false })).toThrow(/blockLocalInput/);
  });

  it('refuses an answer that is not one of the known outcomes', () => {
    expect(() => parseHelperToService({ type: 'consent_answer', outcome: 'maybe' })).toThrow(/outcome/);
  });

  it('carries limits in desktop_start, bounded', () => {
    const start = {
      type: 'desktop_start',
      sessionId: 'd1',
      offer: 'v=0',
      iceServers: [],
      displayIndex: 0,
      limits: { maxSessionMs: 3_600_000, idleMs: 600_000, warnMs: 60_000 },
    };
    expect(parseServiceToHelper(start)).toEqual(start);
    expect(() => parseServiceToHelper({ ...start, limits: { maxSessionMs: 10, warnMs: 0 } })).toThrow(
      /limits\.maxSessionMs/,
    );
    expect(() => parseServiceToHelper({ ...start, limits: { idleMs: 5000 } })).toThrow(/limits\.warnMs/);
  });
});

describe('consent on the agent link', () => {
  const today: ApiLinkPeer = parseApiLinkPeer(apiLinkHeaders());
  const noConsent: ApiLinkPeer = { version: 2, features: new Set(['capacity_errors', 'viewer']) };

  it('validates the waiting message', () => {
    const ok = { type: 'waiting', id: 'c-1', for: 'consent', timeoutMs: 30_000 };
    expect(commandWaiting(ok, '')).toEqual(ok);
    expect(() => commandWaiting({ ...ok, timeoutMs: 300_001 }, '')).toThrow(/timeoutMs/);
    expect(() => commandWaiting({ ...ok, for: 'lunch' }, '')).toThrow(/for/);
  });

  it('accepts the consent codes in a reply', () => {
    const reply = { id: 'c-1', type: 'result', ok: false, error: { code: 'consent_timeout', message: 'm' } };
    expect(agentReply(reply, '')).toEqual(reply);
  });

  it('tells an API without `consent` helper_unavailable, prefixed with the real code', () => {
    const body = { code: 'consent_denied' as const, message: 'the user at the machine refused' };
    expect(errorBodyForPeer(body, today)).toEqual(body);
    for (const peer of [noConsent, API_LINK_V1]) {
      expect(errorBodyForPeer(body, peer)).toEqual({
        code: 'helper_unavailable',
        message: 'consent_denied: the user at the machine refused',
      });
    }
  });
});

describe('session_limit on the control channel', () => {
  it('is a notice the viewer accepts, bounded', () => {
    const msg = { type: 'session_limit', reason: 'idle', remainingMs: 60_000 };
    expect(parseHelperToViewer(msg)).toEqual(msg);
    expect(() => parseHelperToViewer({ ...msg, reason: 'bedtime' })).toThrow(/reason/);
    expect(() => parseHelperToViewer({ ...msg, remainingMs: -1 })).toThrow(/remainingMs/);
  });
});
