/**
 * The local input block's holds (access.blockLocalInput) against a recording backend: one switch for
 * many holds, unblocked with the last release, a refusal logged without failing the desktop; and the
 * X11 stand-in that blocks nothing and says so.
 */
import { describe, expect, it } from 'vitest';
import { countedInputBlock, unsupportedInputBlock } from '../../../src/helper/input/local-input-block.js';
import { createLocalInputBlock } from '../../../src/helper/input/index.js';

function recorder() {
  const lines: string[] = [];
  return {
    lines,
    log: {
      debug: () => {},
      info: (_f: object, m: string) => lines.push(`info ${m}`),
      warn: (_f: object, m: string) => lines.push(`warn ${m}`),
    },
  };
}

describe('countedInputBlock', () => {
  it('blocks at the first hold and unblocks at the last release, each release counting once', () => {
    const switched: boolean[] = [];
    const r = recorder();
    const block = countedInputBlock({ setBlocked: (b) => switched.push(b) }, r.log);
    const a = block.hold();
    const b = block.hold();
    expect(switched).toEqual([true]);
    a();
    a(); // a second call of the same release does nothing
    expect(switched).toEqual([true]);
    expect(block.holds).toBe(1);
    b();
    expect(switched).toEqual([true, false]);
    block.hold();
    block.close();
    expect(switched).toEqual([true, false, true, false]);
    expect(block.holds).toBe(0);
  });

  it('logs a refusal (e.g. a helper without the rights) and goes on', () => {
    const r = recorder();
    const block = countedInputBlock(
      {
        setBlocked: () => {
          throw new Error('BlockInput(TRUE) failed: access denied');
        },
      },
      r.log,
    );
    const release = block.hold();
    expect(r.lines).toEqual(['warn cannot switch the local input block']);
    release();
    expect(block.holds).toBe(0);
  });
});

describe('where nothing can be blocked', () => {
  it('says so at the first hold and blocks nothing', () => {
    const r = recorder();
    const block = unsupportedInputBlock('X11', r.log);
    const a = block.hold();
    block.hold();
    expect(r.lines).toEqual(['warn access.blockLocalInput is set but local input cannot be blocked here']);
    a();
    expect(block.holds).toBe(1);
  });

  it('is what X11 gets', () => {
    const r = recorder();
    createLocalInputBlock({ backend: 'x11', log: r.log }).hold();
    expect(r.lines).toHaveLength(1);
  });
});
