import { describe, expect, it } from 'vitest';
import type { DesktopAuditEvent } from '../../../src/protocol/audit-event.js';
import type { ChatWindow, ChatWindowEvents } from '../../../src/helper/presence/chat-window.js';
import type { IndicatorEvents, IndicatorWindow } from '../../../src/helper/presence/indicator.js';
import { indicatorText, SessionPresence } from '../../../src/helper/presence/session-presence.js';
import { FakeClock } from '../../fixtures/fake-clock.js';
import { createFakeDesktopPeer, type FakeDesktopPeer } from '../../fixtures/fake-desktop-peer.js';

/** The indicator as the person at the machine would see it, and its buttons to press. */
function fakeIndicator() {
  const state = {
    opened: 0,
    closed: 0,
    text: undefined as string | undefined,
    events: undefined as IndicatorEvents | undefined,
    failNext: false,
  };
  const open = (text: string, events: IndicatorEvents): IndicatorWindow => {
    if (state.failNext) {
      state.failNext = false;
      throw new Error('XOpenDisplay: cannot open display');
    }
    state.opened += 1;
    state.text = text;
    state.events = events;
    let closed = false;
    return {
      setText: (t) => {
        if (!closed) state.text = t;
      },
      close: () => {
        if (closed) return;
        closed = true;
        state.closed += 1;
        state.text = undefined;
      },
    };
  };
  return { state, open };
}

function fakeChat() {
  const state = {
    lines: [] as string[],
    opened: 0,
    closed: 0,
    events: undefined as ChatWindowEvents | undefined,
  };
  const open = (events: ChatWindowEvents): ChatWindow => {
    state.opened += 1;
    state.events = events;
    return {
      show: (from, text) => state.lines.push(`${from}: ${text}`),
      open: () => state.lines.push('(opened)'),
      close: () => (state.closed += 1),
    };
  };
  return { state, open };
}

function setup(opts: { chat?: boolean } = {}) {
  const clock = new FakeClock();
  const indicator = fakeIndicator();
  const chat = fakeChat();
  const audit: DesktopAuditEvent[] = [];
  let disconnects = 0;
  const warnings: string[] = [];
  const presence = new SessionPresence({
    log: { info: () => {}, warn: (_f: object, msg: string) => warnings.push(msg) },
    openIndicator: indicator.open,
    ...(opts.chat === false ? {} : { openChatWindow: chat.open }),
    disconnectAll: () => (disconnects += 1),
    audit: (e) => audit.push(e),
    timers: clock,
  });
  return { presence, indicator, chat, audit, disconnects: () => disconnects, warnings, clock };
}

function viewerPeer(): FakeDesktopPeer {
  const peer = createFakeDesktopPeer();
  peer.channel('chat', true);
  return peer;
}

describe('indicatorText', () => {
  it('names one viewer, two, and counts the rest; the same name once', () => {
    expect(indicatorText(['alice'])).toBe('alice is viewing this screen');
    expect(indicatorText(['alice', 'bob', 'alice'])).toBe('alice and bob are viewing this screen');
    expect(indicatorText(['a', 'b', 'c', 'd'])).toBe('a, b and 2 others are viewing this screen');
    expect(indicatorText([undefined])).toBe('Someone is viewing this screen');
  });

  it('shows a name without control characters, shortened', () => {
    expect(indicatorText(['eve\nAdmin: all fine\u202e'])).toBe('eve Admin: all fine is viewing this screen');
    expect(indicatorText(['x'.repeat(100)])).toBe(`${'x'.repeat(39)}… is viewing this screen`);
  });
});

describe('SessionPresence: the indicator', () => {
  it('appears at the first connected viewer, follows who is connected, and is gone after the last', () => {
    const { presence, indicator } = setup();
    expect(indicator.state.opened).toBe(0);
    presence.connected('desk-1', 'alice', viewerPeer());
    expect(indicator.state).toMatchObject({ opened: 1, text: 'alice is viewing this screen' });
    presence.connected('desk-2', 'bob', viewerPeer());
    expect(indicator.state).toMatchObject({ opened: 1, text: 'alice and bob are viewing this screen' });
    presence.left('desk-1');
    expect(indicator.state.text).toBe('bob is viewing this screen');
    presence.left('desk-2');
    expect(indicator.state).toMatchObject({ opened: 1, closed: 1, text: undefined });
    presence.connected('desk-3', 'carol', viewerPeer());
    expect(indicator.state).toMatchObject({ opened: 2, text: 'carol is viewing this screen' });
    presence.close();
    expect(indicator.state.closed).toBe(2);
    expect(presence.viewerCount).toBe(0);
  });

  it('Disconnect asks for every desktop to end', () => {
    const s = setup();
    s.presence.connected('desk-1', 'alice', viewerPeer());
    s.indicator.state.events!.disconnect();
    expect(s.disconnects()).toBe(1);
  });

  it('a limit’s notice is added to the text while it is set, and dropped with its desktop', () => {
    const { presence, indicator } = setup();
    presence.connected('desk-1', 'alice', viewerPeer());
    presence.limitNotice('desk-1', 'idle', 60_000);
    expect(indicator.state.text).toBe('alice is viewing this screen - session ends in 1 min (idle)');
    presence.limitNotice('desk-1', undefined);
    expect(indicator.state.text).toBe('alice is viewing this screen');
    presence.limitNotice('desk-1', 'max_length', 5000);
    presence.connected('desk-2', 'bob', viewerPeer());
    expect(indicator.state.text).toBe(
      "alice and bob are viewing this screen - alice's session ends in 5 s (time limit)",
    );
    presence.left('desk-1');
    expect(indicator.state.text).toBe('bob is viewing this screen');
    presence.limitNotice('desk-9', 'idle', 5000); // no such desktop: nothing to show
    expect(indicator.state.text).toBe('bob is viewing this screen');
  });

  it('shows the soonest of several notices', () => {
    const { presence, indicator } = setup();
    presence.connected('desk-1', 'alice', viewerPeer());
    presence.connected('desk-2', 'bob', viewerPeer());
    presence.limitNotice('desk-1', 'idle', 50_000);
    presence.limitNotice('desk-2', 'max_length', 20_000);
    expect(indicator.state.text).toBe(
      "alice and bob are viewing this screen - bob's session ends in 20 s (time limit)",
    );
  });

  it('an indicator that cannot be shown is logged, and the desktop goes on', async () => {
    const s = setup();
    s.indicator.state.failNext = true;
    s.presence.connected('desk-1', 'alice', viewerPeer());
    expect(s.warnings).toContain('cannot show the being-viewed indicator');
    expect(s.presence.viewerCount).toBe(1);
    // A new notice tries again; its countdown does not retry every second (nor log each time)...
    s.indicator.state.failNext = true;
    s.presence.limitNotice('desk-1', 'idle', 30_000);
    s.indicator.state.failNext = true;
    await s.clock.advance(5000);
    expect(s.warnings.filter((w) => w === 'cannot show the being-viewed indicator')).toHaveLength(2);
    expect(s.indicator.state.opened).toBe(0);
    // ...the next change of viewers tries again.
    s.indicator.state.failNext = false;
    s.presence.connected('desk-2', 'bob', viewerPeer());
    expect(s.indicator.state.opened).toBe(1);
  });
});

describe('SessionPresence: chat', () => {
  it('shows a viewer’s line with its name, and sends the person’s answer to every viewer', () => {
    const { presence, chat, audit } = setup();
    const alice = viewerPeer();
    const bob = viewerPeer();
    presence.connected('desk-1', 'alice', alice);
    presence.connected('desk-2', 'bob', bob);
    alice.chat({ type: 'message', text: 'hello, can you see my pointer?' });
    expect(chat.state.lines).toEqual(['alice: hello, can you see my pointer?']);
    chat.state.events!.reply('yes\nI do');
    expect(alice.sentChat).toEqual([{ type: 'message', text: 'yes I do' }]);
    expect(bob.sentChat).toEqual([{ type: 'message', text: 'yes I do' }]);
    // Once per desktop connection, never the text.
    alice.chat({ type: 'message', text: 'thanks' });
    expect(audit).toEqual([
      { kind: 'chat', desktop: 'desk-1' },
      { kind: 'chat', desktop: 'desk-2' },
    ]);
  });

  it('Chat on the indicator opens the window; the window closes with the last viewer', () => {
    const { presence, indicator, chat } = setup();
    presence.connected('desk-1', 'alice', viewerPeer());
    indicator.state.events!.chat();
    expect(chat.state).toMatchObject({ opened: 1, lines: ['(opened)'] });
    presence.left('desk-1');
    expect(chat.state.closed).toBe(1);
  });

  it('a line from a desktop that has left is not shown', () => {
    const { presence, chat } = setup();
    const alice = viewerPeer();
    presence.connected('desk-1', 'alice', alice);
    presence.left('desk-1');
    alice.chat({ type: 'message', text: 'late' });
    expect(chat.state.lines).toEqual([]);
  });

  it('says `unavailable` to the viewers when no chat window can be shown, once each, then to each new line', () => {
    const { presence, chat } = setup();
    const alice = viewerPeer();
    const bob = viewerPeer();
    presence.connected('desk-1', 'alice', alice);
    presence.connected('desk-2', 'bob', bob);
    alice.chat({ type: 'message', text: 'hi' });
    // The window fails after it was handed the line (zenity missing: spawn fails asynchronously).
    chat.state.events!.unavailable('zenity is not installed (apt install zenity)');
    const said = {
      type: 'error',
      code: 'unavailable',
      message: 'zenity is not installed (apt install zenity)',
    };
    expect(alice.sentChat).toEqual([said]);
    expect(bob.sentChat).toEqual([said]);
    bob.chat({ type: 'message', text: 'hello?' });
    expect(bob.sentChat).toEqual([said, said]);
    expect(chat.state.opened).toBe(1);
  });

  it('without a chat window on this platform, a line is answered `unavailable`', () => {
    const { presence } = setup({ chat: false });
    const alice = viewerPeer();
    presence.connected('desk-1', 'alice', alice);
    alice.chat({ type: 'message', text: 'hi' });
    expect(alice.sentChat).toEqual([
      { type: 'error', code: 'unavailable', message: 'this machine shows no chat window' },
    ]);
  });

  it('a blank answer sends nothing', () => {
    const { presence, chat } = setup();
    const alice = viewerPeer();
    presence.connected('desk-1', 'alice', alice);
    alice.chat({ type: 'message', text: 'hi' });
    chat.state.events!.reply(' \u0007 ');
    expect(alice.sentChat).toEqual([]);
  });
});
