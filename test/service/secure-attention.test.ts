/**
 * The service's Ctrl+Alt+Del relay on a fake clock, and what a viewer reads when Windows' policy is
 * missing. The SendSAS call itself runs under Wine (test/win32/secure-attention.test.ts) and on a VM.
 */
import { describe, expect, it } from 'vitest';
import {
  sasPolicyProblem,
  SecureAttentionRelay,
  type SasSendOutcome,
} from '../../src/service/secure-attention.js';
import { FakeClock } from '../fixtures/fake-clock.js';

function recorder() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  return {
    lines,
    log: {
      info: (obj: object, msg?: string) => void lines.push({ level: 'info', obj, msg }),
      warn: (obj: object, msg?: string) => void lines.push({ level: 'warn', obj, msg }),
    },
  };
}

describe('the SoftwareSASGeneration policy', () => {
  it('allows services with 1 (services) and 3 (services and Ease of Access)', () => {
    expect(sasPolicyProblem(1)).toBeUndefined();
    expect(sasPolicyProblem(3)).toBeUndefined();
  });

  it('names the policy, its value and both ways to set it when it is missing or excludes services', () => {
    for (const [value, says] of [
      [undefined, 'is not set'],
      [0, 'is 0, which does not include services'],
      [2, 'is 2, which does not include services'],
    ] as const) {
      const text = sasPolicyProblem(value);
      expect(text).toContain(`the policy SoftwareSASGeneration ${says}`);
      expect(text).toContain('Disable or enable software Secure Attention Sequence');
      expect(text).toContain(
        'reg add "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System" /v SoftwareSASGeneration /t REG_DWORD /d 1 /f',
      );
      // It reaches the viewer in an error message (at most 2000 characters there).
      expect(text!.length).toBeLessThan(1000);
    }
  });
});

describe('SecureAttentionRelay', () => {
  const relay = (send: (sessionId: number) => SasSendOutcome, clock = new FakeClock()) => {
    const r = recorder();
    return { ...r, clock, relay: new SecureAttentionRelay({ sender: { send }, log: r.log, timers: clock }) };
  };

  it('sends, logs the session, and refuses a second request within 5 s with the time left', async () => {
    const sent: number[] = [];
    const t = relay((s) => (sent.push(s), { outcome: 'sent' }));
    expect(t.relay.request(3)).toEqual({ type: 'secure_attention_result', outcome: 'sent' });
    await t.clock.advance(2500);
    expect(t.relay.request(3)).toMatchObject({ outcome: 'rate_limited', retryAfterMs: 2500 });
    expect(t.relay.request(4)).toMatchObject({ outcome: 'sent' });
    await t.clock.advance(2500);
    expect(t.relay.request(3)).toMatchObject({ outcome: 'sent' });
    expect(sent).toEqual([3, 4, 3]);
    expect(t.lines.filter((l) => l.msg === 'Ctrl+Alt+Del sent (SendSAS)').map((l) => l.obj)).toEqual([
      { sessionId: 3 },
      { sessionId: 4 },
      { sessionId: 3 },
    ]);
  });

  it('counts a refused request too, so a refusal cannot be retried at the viewer’s pace', async () => {
    let calls = 0;
    const t = relay(() => (calls++, { outcome: 'unsupported', reason: 'no policy' }));
    expect(t.relay.request(1)).toEqual({
      type: 'secure_attention_result',
      outcome: 'unsupported',
      reason: 'no policy',
    });
    expect(t.relay.request(1)).toMatchObject({ outcome: 'rate_limited' });
    expect(calls).toBe(1);
  });

  it('warns once per reason, not once per press', async () => {
    const t = relay(() => ({ outcome: 'unsupported', reason: 'no policy' }));
    for (let i = 0; i < 5; i++) {
      t.relay.request(1);
      await t.clock.advance(5000);
    }
    expect(t.lines.filter((l) => l.level === 'warn')).toEqual([
      {
        level: 'warn',
        obj: { sessionId: 1, outcome: 'unsupported', reason: 'no policy' },
        msg: 'Ctrl+Alt+Del not sent',
      },
    ]);
  });

  it('answers a sender that throws with failed and its message, and bounds every reason', () => {
    const t = relay(() => {
      throw new Error('SetTokenInformation(TokenSessionId=2) failed: 1314 ERROR_PRIVILEGE_NOT_HELD');
    });
    expect(t.relay.request(2)).toEqual({
      type: 'secure_attention_result',
      outcome: 'failed',
      reason: 'SetTokenInformation(TokenSessionId=2) failed: 1314 ERROR_PRIVILEGE_NOT_HELD',
    });
    const long = relay(() => ({ outcome: 'failed', reason: 'x'.repeat(5000) }));
    expect(long.relay.request(1).reason).toHaveLength(1000);
  });

  it('forgets an ended session: its next one starts with a fresh budget', () => {
    const t = relay(() => ({ outcome: 'sent' }));
    t.relay.request(7);
    t.relay.forget(7);
    expect(t.relay.request(7)).toMatchObject({ outcome: 'sent' });
  });
});
