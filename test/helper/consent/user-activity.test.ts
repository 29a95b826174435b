/**
 * "Is someone at this session" before a consent prompt (`when-user-present`): the decision against a
 * fake reader, and the X11 reader (XScreenSaverQueryInfo through libXss) against a private Xvfb whose
 * idle time the test resets with XTest and whose screen saver it turns on with `xset s activate`.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentPromptUi } from '../../../src/helper/consent/consent-prompt.js';
import {
  absentBecause,
  askWhenPresent,
  type UserActivity,
} from '../../../src/helper/consent/user-activity.js';
import { readX11UserActivity } from '../../../src/helper/consent/x11-user-activity.js';
import { createInputInjector } from '../../../src/helper/input/index.js';
import { silentLogger } from '../../../src/log/logger.js';
import { FULL_CONTROL } from '../../../src/protocol/ipc.js';
import { startXvfb, type XvfbHandle } from '../../fixtures/xvfb.js';

const question = { viewer: 'bob', asks: FULL_CONTROL, timeoutMs: 30_000 };

function fakePrompt() {
  const asked: unknown[] = [];
  const ui: ConsentPromptUi = {
    ask: (q) => {
      asked.push(q);
      return Promise.resolve({ outcome: 'accepted' });
    },
    close: () => {},
  };
  return { ui, asked };
}

describe('askWhenPresent (fake reader)', () => {
  const warnings: string[] = [];
  const log = { info: () => {}, warn: (_f: object, m: string) => warnings.push(m) };

  it('answers absent without a prompt when the session is idle that long or its screen saver is on', async () => {
    for (const activity of [
      { idleMs: 300_000, screenSaverOn: false },
      { idleMs: 1000, screenSaverOn: true },
    ]) {
      const { ui, asked } = fakePrompt();
      const answer = await askWhenPresent(ui, () => activity, log).ask({
        ...question,
        absentAfterIdleMs: 300_000,
      });
      expect(answer.outcome).toBe('absent');
      expect(asked).toEqual([]);
    }
  });

  it('asks when someone was active recently, and when the question does not ask about presence', async () => {
    const recent = fakePrompt();
    let reads = 0;
    const read = (): UserActivity => (reads++, { idleMs: 299_999, screenSaverOn: false });
    expect(
      await askWhenPresent(recent.ui, read, log).ask({ ...question, absentAfterIdleMs: 300_000 }),
    ).toEqual({ outcome: 'accepted' });
    expect(recent.asked).toHaveLength(1);
    const always = fakePrompt();
    reads = 0;
    await askWhenPresent(always.ui, read, log).ask(question);
    expect(reads).toBe(0);
    expect(always.asked).toHaveLength(1);
  });

  it('asks when the idle time cannot be read (fails towards asking), and says so', async () => {
    const { ui, asked } = fakePrompt();
    const read = (): UserActivity => {
      throw new Error('the X server :9 has no MIT-SCREEN-SAVER extension');
    };
    await askWhenPresent(ui, read, log).ask({ ...question, absentAfterIdleMs: 60_000 });
    expect(asked).toHaveLength(1);
    expect(warnings).toContain('input idle time unknown: asking');
  });

  it('gives the reason in words', () => {
    expect(absentBecause({ idleMs: 61_500, screenSaverOn: false }, 60_000)).toMatch(/no input for 61 s/);
    expect(absentBecause({ idleMs: 59_000, screenSaverOn: false }, 60_000)).toBeUndefined();
  });
});

describe('readX11UserActivity (Xvfb)', () => {
  let x: XvfbHandle;
  beforeAll(async () => {
    x = await startXvfb({ screens: [{ w: 640, h: 480 }] });
  });
  afterAll(async () => {
    await x?.stop();
  });

  it('reads the idle time, reset by input, and the screen saver turned on', async () => {
    execFileSync('xset', ['-display', x.display, 's', 'reset']);
    await new Promise((r) => setTimeout(r, 1200));
    const idle = readX11UserActivity(x.display);
    expect(idle.idleMs).toBeGreaterThanOrEqual(1000);
    expect(idle.screenSaverOn).toBe(false);
    const person = createInputInjector({ backend: 'x11', display: x.display, log: silentLogger });
    try {
      person.pointerMove({ x: 0, y: 0, width: 640, height: 480 }, 0.5, 0.5);
      person.pointerMove({ x: 0, y: 0, width: 640, height: 480 }, 0.6, 0.6);
    } finally {
      person.close();
    }
    expect(readX11UserActivity(x.display).idleMs).toBeLessThan(idle.idleMs);
    execFileSync('xset', ['-display', x.display, 's', 'activate']);
    expect(readX11UserActivity(x.display).screenSaverOn).toBe(true);
    execFileSync('xset', ['-display', x.display, 's', 'reset']);
  });

  it('throws when the display cannot be opened', () => {
    expect(() => readX11UserActivity(':4093')).toThrow();
  });
});
