import { describe, expect, it } from 'vitest';
import { LogThrottle } from '../../src/log/log-throttle.js';
import { FakeClock } from '../fixtures/fake-clock.js';
import { recordingLogger } from '../service/sessions/recording-logger.js';

describe('LogThrottle', () => {
  it('passes the first lines of a window, then writes one summary of the rest when the window ends', async () => {
    const clock = new FakeClock();
    const out = recordingLogger();
    const log = new LogThrottle(out, { max: 3, windowMs: 1000, timers: clock, about: { sessionId: 7 } });
    for (let i = 0; i < 2000; i++) log.warn({ i }, 'flood');
    expect(out.entries.map((e) => (e.obj as { i: number }).i)).toEqual([0, 1, 2]);
    await clock.advance(999);
    expect(out.entries).toHaveLength(3);
    await clock.advance(1);
    expect(out.entries).toHaveLength(4);
    expect(out.entries[3]).toEqual({
      level: 'warn',
      obj: { sessionId: 7, suppressed: 1997, windowMs: 1000 },
      msg: '1997 more log lines suppressed',
    });
    // A new window passes lines again; a quiet one writes nothing.
    log.info({ i: 'next' }, 'again');
    expect(out.entries).toHaveLength(5);
    await clock.advance(5000);
    expect(out.entries).toHaveLength(5);
  });

  it('keeps each line at its own level and writes a pending summary on close', () => {
    const clock = new FakeClock();
    const out = recordingLogger();
    const log = new LogThrottle(out, { max: 2, windowMs: 1000, timers: clock });
    log.error({}, 'e');
    log.debug({}, 'd');
    log.info({}, 'dropped');
    log.close();
    expect(out.entries.map((e) => [e.level, e.msg])).toEqual([
      ['error', 'e'],
      ['debug', 'd'],
      ['warn', '1 more log lines suppressed'],
    ]);
    expect(clock.pending).toEqual([]);
  });
});
