import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DetectedSession } from '../../../src/service/sessions/session-detector.js';
import { SessionPoller } from '../../../src/service/sessions/session-poller.js';
import { EventRecorder } from './event-recorder.js';
import { recordingLogger } from './recording-logger.js';
import { session } from './sessions.js';
import { silentLogger } from '../../../src/log/logger.js';

/** A read function that answers each call with the next script step (the last one repeats). */
function scripted(steps: (DetectedSession[] | Error)[]): {
  read: () => Promise<DetectedSession[]>;
  calls: () => number;
} {
  let calls = 0;
  return {
    read: () => {
      const step = steps[Math.min(calls, steps.length - 1)]!;
      calls++;
      return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
    },
    calls: () => calls,
  };
}

describe('SessionPoller', () => {
  it('takes the first read as the baseline and reports only later changes', async () => {
    const script = scripted([[session(1)], [session(1)], [session(1), session(2)]]);
    const poller = new SessionPoller({ read: script.read, pollMs: 5, log: silentLogger });
    const recorder = new EventRecorder();
    await poller.start(recorder.listener);
    await recorder.waitFor((e) => e.kind === 'logon');
    await poller.stop();
    expect(recorder.events.map((e) => `${e.kind}:${e.sessionId}`)).toEqual(['logon:2']);
  });

  it('rejects start when the baseline read fails, and can start again afterwards', async () => {
    const script = scripted([new Error('boom'), [session(1)]]);
    const poller = new SessionPoller({ read: script.read, pollMs: 1000, log: silentLogger });
    await expect(poller.start(() => {})).rejects.toThrow('boom');
    await poller.start(() => {});
    await expect(poller.start(() => {})).rejects.toThrow(/already started/);
    await poller.stop();
  });

  it('keeps polling through failed reads, logging each kind of failure once until a read succeeds', async () => {
    const eacces = Object.assign(new Error('denied'), { code: 'EACCES' });
    const steps = [[], eacces, eacces, new TypeError('bad'), eacces, [session(3)], eacces, [session(3)]];
    const script = scripted(steps);
    const log = recordingLogger();
    const poller = new SessionPoller({ read: script.read, pollMs: 1, log });
    const recorder = new EventRecorder();
    await poller.start(recorder.listener);
    await recorder.waitFor((e) => e.kind === 'logon');
    while (script.calls() < steps.length + 1) await new Promise((r) => setTimeout(r, 5));
    await poller.stop();
    const warnings = log.entries
      .filter((e) => e.level === 'warn')
      .map((e) => (e.obj as { code: string }).code);
    expect(warnings).toEqual(['EACCES', 'TypeError', 'EACCES']);
    expect(log.entries.filter((e) => e.msg === 'session detection recovered')).toHaveLength(2);
    expect(recorder.events.map((e) => e.kind)).toEqual(['logon']);
  });

  it('survives a listener that throws, and logs it once', async () => {
    const script = scripted([[], [session(1)], [session(1), session(2)]]);
    const log = recordingLogger();
    const poller = new SessionPoller({ read: script.read, pollMs: 1, log });
    const seen: number[] = [];
    await poller.start((e) => {
      seen.push(e.sessionId);
      throw new Error('listener bug');
    });
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 5));
    await poller.stop();
    expect(seen).toEqual([1, 2]);
    expect(log.entries.filter((e) => e.level === 'warn')).toHaveLength(1);
  });

  it('never runs two reads at once', async () => {
    let inFlight = 0;
    let most = 0;
    let reads = 0;
    const dir = await mkdtemp(join(tmpdir(), 'porthole-poller-'));
    const poller = new SessionPoller({
      read: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        reads++;
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        return [];
      },
      pollMs: 1,
      watchDir: dir,
      debounceMs: 0,
      log: silentLogger,
    });
    try {
      await poller.start(() => {});
      // Directory changes and timer ticks both ask for reads while one is running.
      for (let i = 0; i < 20; i++) await writeFile(join(dir, `f${i}`), '');
      while (reads < 5) await new Promise((r) => setTimeout(r, 5));
    } finally {
      await poller.stop();
      await rm(dir, { recursive: true, force: true });
    }
    expect(most).toBe(1);
    expect(inFlight).toBe(0);
  });

  it('delivers no event once stop() has resolved, even from a read that was under way', async () => {
    let release: (() => void) | undefined;
    let reads = 0;
    const poller = new SessionPoller({
      read: () => {
        reads++;
        if (reads === 1) return Promise.resolve([]);
        return new Promise((resolve) => (release = () => resolve([session(1)])));
      },
      pollMs: 1,
      log: silentLogger,
    });
    const recorder = new EventRecorder();
    await poller.start(recorder.listener);
    while (release === undefined) await new Promise((r) => setTimeout(r, 1));
    const stopped = poller.stop();
    release();
    await stopped;
    expect(recorder.events).toEqual([]);
  });
});
