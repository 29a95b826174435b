/**
 * The X11 presence windows on a private Xvfb, judged by the X server: the indicator is a mapped
 * override-redirect window named after the viewers, its buttons answer XTest clicks, and close() takes
 * it off the server. The chat window is a real zenity, answered by typing through XTest.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInputInjector } from '../../../src/helper/input/index.js';
import type { InputInjector } from '../../../src/helper/input/input-injector.js';
import {
  INDICATOR_NAME_PREFIX,
  latin1,
  openX11Indicator,
} from '../../../src/helper/presence/x11-indicator.js';
import {
  CHAT_WINDOW_TITLE,
  chatDialogText,
  openZenityChatWindow,
} from '../../../src/helper/presence/zenity-chat-window.js';
import { silentLogger } from '../../../src/log/logger.js';
import { waitFor } from '../../fixtures/wait-for.js';
import { startXvfb, type XvfbHandle } from '../../fixtures/xvfb.js';

const SCREEN = { width: 800, height: 600 };
let x: XvfbHandle;
let person: InputInjector;

beforeAll(async () => {
  x = await startXvfb({ screens: [{ w: SCREEN.width, h: SCREEN.height }] });
  person = createInputInjector({ backend: 'x11', display: x.display, log: silentLogger });
});
afterAll(async () => {
  person?.close();
  await x?.stop();
});

interface XWindow {
  id: string;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The root's children named `prefix…`, with their geometry (xwininfo -tree). */
function windowsNamed(prefix: string): XWindow[] {
  const tree = execFileSync('xwininfo', ['-root', '-tree', '-display', x.display], { encoding: 'utf8' });
  const out: XWindow[] = [];
  for (const m of tree.matchAll(/(0x[0-9a-f]+) "([^"]*)":.*?(\d+)x(\d+)\+(-?\d+)\+(-?\d+)/g)) {
    if (m[2]!.startsWith(prefix))
      out.push({ id: m[1]!, name: m[2]!, width: +m[3]!, height: +m[4]!, x: +m[5]!, y: +m[6]! });
  }
  return out;
}

function attributes(id: string): string {
  return execFileSync('xwininfo', ['-id', id, '-display', x.display], { encoding: 'utf8' });
}

function click(px: number, py: number): void {
  person.pointerMove({ x: 0, y: 0, ...SCREEN }, px / SCREEN.width, py / SCREEN.height);
  person.button('left', true);
  person.button('left', false);
}

describe('the X11 being-viewed indicator', () => {
  it('is a mapped override-redirect window at the top, named after the viewers, gone after close', () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    const ind = openX11Indicator(
      'alice is viewing this screen',
      { disconnect: () => {}, chat: () => {} },
      {
        display: x.display,
      },
    );
    try {
      const [w, ...more] = windowsNamed(INDICATOR_NAME_PREFIX);
      expect(more).toEqual([]);
      expect(w!.name).toBe('porthole: alice is viewing this screen');
      expect(w!.y).toBe(0);
      // Centred on the monitor.
      expect(Math.abs(w!.x + w!.width / 2 - SCREEN.width / 2)).toBeLessThanOrEqual(2);
      const attrs = attributes(w!.id);
      expect(attrs).toMatch(/Override Redirect State: yes/);
      expect(attrs).toMatch(/Map State: IsViewable/);
      ind.setText('alice and bob are viewing this screen');
      expect(windowsNamed(INDICATOR_NAME_PREFIX).map((v) => v.name)).toEqual([
        'porthole: alice and bob are viewing this screen',
      ]);
    } finally {
      ind.close();
    }
    expect(windowsNamed(INDICATOR_NAME_PREFIX)).toEqual([]);
    // Its X connection is closed too: no descriptor left behind.
    expect(fds()).toBe(before);
  });

  it('answers a click on Disconnect and on Chat, and nothing elsewhere on it', async () => {
    const pressed: string[] = [];
    const ind = openX11Indicator(
      'alice is viewing this screen',
      { disconnect: () => pressed.push('disconnect'), chat: () => pressed.push('chat') },
      { display: x.display, pollMs: 20 },
    );
    try {
      const w = windowsNamed(INDICATOR_NAME_PREFIX)[0]!;
      const at = (name: string) => {
        const b = ind.buttons().find((v) => v.name === name)!;
        return [w.x + b.x + b.width / 2, w.y + b.y + b.height / 2] as const;
      };
      click(w.x + 4, w.y + w.height / 2); // the text, not a button
      click(...at('disconnect'));
      await waitFor(() => pressed.length >= 1, { what: 'Disconnect pressed', timeoutMs: 5000 });
      click(...at('chat'));
      await waitFor(() => pressed.length >= 2, { what: 'Chat pressed', timeoutMs: 5000 });
      expect(pressed).toEqual(['disconnect', 'chat']);
    } finally {
      ind.close();
    }
  });

  it('comes back on top when another window covers it', async () => {
    const ind = openX11Indicator(
      'alice is viewing this screen',
      { disconnect: () => {}, chat: () => {} },
      {
        display: x.display,
        pollMs: 20,
      },
    );
    const cover = openX11Indicator('cover', { disconnect: () => {}, chat: () => {} }, { display: x.display });
    try {
      const stacking = () =>
        windowsNamed(INDICATOR_NAME_PREFIX)
          .map((w) => w.name)
          .filter((n) => n === 'porthole: cover' || n.startsWith('porthole: alice'));
      // xwininfo lists the root's children top first.
      await waitFor(() => stacking()[0] === 'porthole: alice is viewing this screen', {
        what: 'the indicator raised above the cover',
        timeoutMs: 5000,
      });
    } finally {
      cover.close();
      ind.close();
    }
  });

  it('draws only Latin-1: other characters become ?', () => {
    expect(latin1('café 日本').toString('latin1')).toBe('café ??');
  });
});

describe('the zenity chat window', () => {
  it('escapes GTK mnemonics so a name cannot hide a letter', () => {
    expect(chatDialogText(['a_b: x'])).toBe('a__b: x\n\nYour answer:');
    expect(chatDialogText([])).toBe('No messages yet.\n\nYour answer:');
  });

  it('escapes backslashes: zenity --entry reads C escapes in its text, so "\\n" could forge a line', () => {
    expect(chatDialogText(['alice: a\\nbob: b\\101'])).toBe('alice: a\\\\nbob: b\\\\101\n\nYour answer:');
  });

  it('a typed "\\n" in a line stays on that line in the real dialog', async () => {
    const heightOf = async (text: string): Promise<number> => {
      const chat = openZenityChatWindow(
        { reply: () => {}, unavailable: () => {} },
        { log: silentLogger, display: x.display },
      );
      chat.show('alice', text);
      try {
        await waitFor(() => windowsNamed(CHAT_WINDOW_TITLE).length > 0, {
          what: 'the chat window',
          timeoutMs: 30_000,
          intervalMs: 100,
        });
        return windowsNamed(CHAT_WINDOW_TITLE)[0]!.height;
      } finally {
        chat.close();
        await waitFor(() => windowsNamed(CHAT_WINDOW_TITLE).length === 0, { what: 'the window gone' });
      }
    };
    const plain = await heightOf('one line nnnnnnn');
    const forged = await heightOf('one\\n\\n\\nbob: line');
    expect(forged).toBe(plain);
  }, 60_000);

  it('shows a viewer’s line and sends what the person types', async () => {
    const replies: string[] = [];
    const unavailable: string[] = [];
    const chat = openZenityChatWindow(
      { reply: (t) => replies.push(t), unavailable: (r) => unavailable.push(r) },
      { log: silentLogger, display: x.display },
    );
    chat.show('alice', 'can you open the settings?');
    try {
      await waitFor(() => windowsNamed(CHAT_WINDOW_TITLE).length > 0, {
        what: 'the chat window',
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      // GTK maps its window a moment before it takes input: type until the answer arrives.
      for (let attempt = 0; attempt < 10 && replies.length === 0; attempt++) {
        const w = windowsNamed(CHAT_WINDOW_TITLE)[0];
        if (w) click(w.x + w.width / 2, w.y + w.height / 2 + 10);
        person.text('done');
        person.key('Enter', true);
        person.key('Enter', false);
        await waitFor(() => replies.length > 0, { what: 'the answer', timeoutMs: 1500 }).catch(
          () => undefined,
        );
      }
      expect(replies[0]).toMatch(/done$/);
      expect(unavailable).toEqual([]);
    } finally {
      chat.close();
    }
  }, 60_000);

  it('is unavailable when zenity is missing', async () => {
    const reasons: string[] = [];
    const chat = openZenityChatWindow(
      { reply: () => {}, unavailable: (r) => reasons.push(r) },
      { log: silentLogger, command: '/nonexistent/zenity' },
    );
    chat.show('alice', 'hi');
    await waitFor(() => reasons.length > 0, { what: 'unavailable' });
    expect(reasons).toEqual(['zenity is not installed (apt install zenity)']);
    chat.close();
  });
});
