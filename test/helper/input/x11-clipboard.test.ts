import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MAX_CLIPBOARD_TEXT } from '../../../src/protocol/datachannel.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clipboard } from '../../../src/helper/input/clipboard.js';
import { createX11Clipboard } from '../../../src/helper/input/x11-clipboard.js';
import { startXvfb, type XvfbHandle } from '../../fixtures/xvfb.js';
import { waitFor } from '../../fixtures/wait-for.js';

const run = promisify(execFile);
const log = { warn: (): void => {}, debug: (): void => {} };

/** Another client copies text: a second xclip owning CLIPBOARD, as an application would. */
function copyElsewhere(x: XvfbHandle, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('xclip', ['-selection', 'clipboard', '-i'], {
      env: x.env,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    p.once('error', reject);
    p.once('exit', () => resolve());
    p.stdin.end(text);
  });
}

describe('X11 clipboard (xclip + XFIXES)', () => {
  let xvfb: XvfbHandle;
  let clipboard: Clipboard;

  beforeAll(async () => {
    xvfb = await startXvfb({ screens: [{ w: 640, h: 480 }] });
    clipboard = createX11Clipboard({ display: xvfb.display, log, pollMs: 50 });
  });
  afterAll(async () => {
    clipboard?.close();
    await xvfb?.stop();
  });

  it('reads an empty clipboard as empty text', async () => {
    expect(await clipboard.read()).toBe('');
  });

  it('writes text other clients can paste, Unicode and large texts included', async () => {
    const text = 'grüße → 世界 ✓\nline two';
    await clipboard.write(text);
    const { stdout } = await run('xclip', ['-selection', 'clipboard', '-o'], { env: xvfb.env });
    expect(stdout).toBe(text);
    // The largest text the protocol carries; reads are cut at that bound.
    const big = 'abcdefghij'.repeat(MAX_CLIPBOARD_TEXT / 10);
    await clipboard.write(big);
    expect(await clipboard.read()).toBe(big);
    await clipboard.write(`${big}overflow`);
    expect(await clipboard.read()).toBe(big);
  });

  it('reports copies made in the session, but not its own writes', async () => {
    const seen: string[] = [];
    const off = clipboard.onChange((t) => seen.push(t));
    await clipboard.write('from the viewer');
    await copyElsewhere(xvfb, 'copied in the session');
    await waitFor(() => seen.length >= 1, { what: 'the change' });
    await copyElsewhere(xvfb, 'copied again');
    await waitFor(() => seen.length >= 2, { what: 'the second change' });
    expect(seen).toEqual(['copied in the session', 'copied again']);
    off();
  });

  it("ends a write only once the clipboard is taken, also when xclip's server starts late", async () => {
    // xclip -i forks and its parent exits before the child has sent a request (strace shows the
    // parent's exit_group before any write to the X socket). On a busy machine the child runs later;
    // this stand-in makes that late start certain: it answers at once and the real xclip takes the
    // selection 300 ms later.
    const real = (await run('sh', ['-c', 'command -v xclip'])).stdout.trim();
    const dir = mkdtempSync(join(tmpdir(), 'porthole-xclip-'));
    const slow = join(dir, 'xclip');
    writeFileSync(
      slow,
      [
        '#!/bin/sh',
        'case " $* " in',
        `  *" -i "*) t=$(mktemp); cat >"$t"; (sleep 0.3; ${real} "$@" <"$t"; rm -f "$t") >/dev/null 2>&1 & exit 0 ;;`,
        'esac',
        `exec ${real} "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(slow, 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${dir}:${path ?? ''}`;
    const late = createX11Clipboard({ display: xvfb.display, log });
    process.env.PATH = path;
    try {
      await late.write('taken late');
      const { stdout } = await run(real, ['-selection', 'clipboard', '-o'], { env: xvfb.env });
      expect(stdout).toBe('taken late');
    } finally {
      late.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
