import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InputInjector } from '../../../src/helper/input/input-injector.js';
import { createX11InputInjector } from '../../../src/helper/input/x11-input-injector.js';
import { openDisplay, type XDisplayConnection } from '../../../src/native/x11/display.js';
import { XQueryPointer } from '../../../src/native/x11/xlib.js';
import { XQueryKeymap } from '../../../src/native/x11/xtest.js';
import { startXvfb, type XvfbHandle } from '../../fixtures/xvfb.js';
import { waitFor } from '../../fixtures/wait-for.js';

const run = promisify(execFile);
const log = { warn: (): void => {}, debug: (): void => {} };

async function mouseLocation(x: XvfbHandle): Promise<{ x: number; y: number }> {
  const { stdout } = await run('xdotool', ['getmouselocation', '--shell'], { env: x.env });
  const get = (k: string): number => Number(new RegExp(`^${k}=(\\d+)`, 'm').exec(stdout)?.[1]);
  return { x: get('X'), y: get('Y') };
}

/** Whether a keycode is down, read from the server (XQueryKeymap) over the test's own connection. */
function keyIsDown(conn: XDisplayConnection, keycode: number): boolean {
  const keys = Buffer.alloc(32);
  XQueryKeymap(conn.dpy, keys);
  return (keys[keycode >> 3]! & (1 << (keycode & 7))) !== 0;
}

async function keycodeOf(x: XvfbHandle, keysymName: string): Promise<number> {
  const { stdout } = await run('xmodmap', ['-pke'], { env: x.env });
  const line = stdout.split('\n').find((l) => new RegExp(`= ${keysymName}( |$)`).test(l));
  return Number(/^keycode\s+(\d+)/.exec(line ?? '')?.[1]);
}

function buttonMask(conn: XDisplayConnection): number {
  const mask = [0];
  XQueryPointer(conn.dpy, conn.root, [0], [0], [0], [0], [0], [0], mask);
  return mask[0]!;
}

describe('X11 input injector, one screen', () => {
  let xvfb: XvfbHandle;
  let injector: InputInjector;
  let probe: XDisplayConnection;
  const rect = { x: 0, y: 0, width: 1024, height: 768 };

  beforeAll(async () => {
    xvfb = await startXvfb({ screens: [{ w: 1024, h: 768 }] });
    injector = createX11InputInjector({ display: xvfb.display, log });
    probe = openDisplay(xvfb.display);
  });
  afterAll(async () => {
    injector?.close();
    probe?.close();
    await xvfb?.stop();
  });

  it('moves the pointer to a normalised position, clamping the far edge to the last pixel', async () => {
    injector.pointerMove(rect, 0.5, 0.25);
    expect(await mouseLocation(xvfb)).toEqual({ x: 512, y: 192 });
    injector.pointerMove(rect, 1, 1);
    expect(await mouseLocation(xvfb)).toEqual({ x: 1023, y: 767 });
    injector.pointerMove(rect, 0, 0);
    expect(await mouseLocation(xvfb)).toEqual({ x: 0, y: 0 });
  });

  it('presses and releases buttons, and releaseAll lets go of held keys and buttons', async () => {
    const Button1Mask = 1 << 8;
    const Button3Mask = 1 << 10;
    const buttons = (): number => buttonMask(probe) & (Button1Mask | Button3Mask);
    injector.button('left', true);
    injector.button('right', true);
    await waitFor(() => buttons() === (Button1Mask | Button3Mask), {
      what: 'both buttons down',
    });
    injector.button('right', false);
    await waitFor(() => buttons() === Button1Mask, { what: 'right button up' });

    const shift = await keycodeOf(xvfb, 'Shift_L');
    const a = await keycodeOf(xvfb, 'a');
    injector.key('ShiftLeft', true);
    injector.key('KeyA', true);
    await waitFor(() => keyIsDown(probe, shift) && keyIsDown(probe, a), {
      what: 'Shift and A down',
    });

    injector.releaseAll();
    await waitFor(() => !keyIsDown(probe, shift) && !keyIsDown(probe, a) && buttons() === 0, {
      what: 'all released',
    });
  });

  it('borrows a spare keycode for a key the keymap lacks (F24) and drops unknown codes', async () => {
    injector.key('F24', true);
    const f24 = await keycodeOf(xvfb, 'F24');
    expect(f24).toBeGreaterThan(0);
    await waitFor(() => keyIsDown(probe, f24), { what: 'F24 down' });
    injector.key('F24', false);
    await waitFor(() => !keyIsDown(probe, f24), { what: 'F24 up' });
    expect(() => injector.key('NoSuchKey', true)).not.toThrow();
  });

  it('never throws on odd input: unknown codes, any Unicode text, degenerate rectangles', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.string({ unit: 'binary', maxLength: 12 }),
        fc.double(),
        (code, text, v) => {
          injector.key(code, true);
          injector.key(code, false);
          injector.text(text);
          injector.pointerMove({ x: 5, y: 5, width: 1, height: 1 }, v, -v);
          injector.wheel(v, -v);
        },
      ),
      { numRuns: 150 },
    );
    injector.releaseAll();
  });

  it('types keys and text into an xterm', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'porthole-input-'));
    const out = join(dir, 'line.txt');
    const term: ChildProcess = spawn(
      'xterm',
      ['-geometry', '80x10+0+0', '-e', 'sh', '-c', `IFS= read -r line; printf '%s' "$line" > ${out}`],
      { env: { ...xvfb.env, LC_ALL: 'C.UTF-8' }, stdio: 'ignore' },
    );
    try {
      await waitFor(
        async () => {
          const r = await run('xdotool', ['search', '--onlyvisible', '--class', 'xterm'], {
            env: xvfb.env,
          }).catch(() => ({ stdout: '' }));
          return r.stdout.trim() !== '';
        },
        { what: 'xterm window', intervalMs: 25 },
      );
      // No window manager: keyboard focus follows the pointer, so put it over the terminal.
      injector.pointerMove(rect, 0.05, 0.05);
      await new Promise((r) => setTimeout(r, 300));
      const press = (code: string): void => {
        injector.key(code, true);
        injector.key(code, false);
      };
      press('KeyH');
      press('KeyI');
      injector.key('ShiftLeft', true);
      press('Digit1'); // '!'
      press('KeyQ'); // 'Q'
      injector.key('ShiftLeft', false);
      press('Space');
      press('Digit4');
      press('Digit2');
      press('Minus');
      injector.text(' Hello, World! ~{x}| é→ß');
      press('Enter');
      await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').length > 0, {
        what: 'the line in the file',
      });
      expect(readFileSync(out, 'utf8')).toBe('hi!Q 42- Hello, World! ~{x}| é→ß');
    } finally {
      term.kill();
    }
  });
});

describe('X11 input injector, two monitors', () => {
  let xvfb: XvfbHandle;
  let injector: InputInjector;

  beforeAll(async () => {
    // Xvfb's +xinerama stacks its screens at 0,0, so the two monitors are RandR 1.5 monitors on one
    // wide screen: the layout a real multi-head X desktop has.
    xvfb = await startXvfb({ screens: [{ w: 1440, h: 600 }] });
    await run('xrandr', ['--setmonitor', 'left', '800/211x600/158+0+0', 'none'], { env: xvfb.env });
    await run('xrandr', ['--setmonitor', 'right', '640/169x480/127+800+0', 'none'], { env: xvfb.env });
    injector = createX11InputInjector({ display: xvfb.display, log });
  });
  afterAll(async () => {
    injector?.close();
    await xvfb?.stop();
  });

  it('maps positions onto the second monitor’s rectangle', async () => {
    const second = { x: 800, y: 0, width: 640, height: 480 };
    injector.pointerMove(second, 0.5, 0.5);
    expect(await mouseLocation(xvfb)).toEqual({ x: 1120, y: 240 });
    injector.pointerMove(second, 1, 1);
    expect(await mouseLocation(xvfb)).toEqual({ x: 1439, y: 479 });
    injector.pointerMove({ x: 0, y: 0, width: 800, height: 600 }, 1, 1);
    expect(await mouseLocation(xvfb)).toEqual({ x: 799, y: 599 });
  });
});
