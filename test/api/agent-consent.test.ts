/**
 * A start_desktop that waits for the person at the machine, on the API's side of the agent link:
 * the agent's `waiting` message moves the command's deadline once (and only for start_desktop), and
 * the consent codes reach the viewer as 403. One AgentConnection over a stand-in socket and a fake
 * clock: the deadlines are what is tested, not how fast a loaded machine runs.
 */
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { AgentConnection } from '../../src/api/agent-connection.js';
import { HttpError } from '../../src/api/http-json.js';
import { silentLogger } from '../../src/log/logger.js';
import { parseApiLinkPeer, apiLinkHeaders } from '../../src/protocol/api-version.js';
import { FakeClock, settle } from '../fixtures/fake-clock.js';

class StandInSocket extends EventEmitter {
  readonly sent: { id: string; type: string }[] = [];
  send(text: string): void {
    this.sent.push(JSON.parse(text) as { id: string; type: string });
  }
  /** A message from the agent. */
  agent(msg: object): void {
    this.emit('message', Buffer.from(JSON.stringify(msg)), false);
  }
}

const OFFER = 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n';

function setup() {
  const clock = new FakeClock();
  const ws = new StandInSocket();
  const conn = new AgentConnection(
    ws as unknown as WebSocket,
    'dev-1',
    '127.0.0.1',
    parseApiLinkPeer(apiLinkHeaders()),
    { commandTimeoutMs: 30_000, log: silentLogger, timers: clock },
  );
  const start = () => {
    const settled = { value: undefined as unknown };
    conn.command('start_desktop', { sessionId: 'desk-1', offer: OFFER, iceServers: [] }).then(
      (r) => (settled.value = r),
      (e: unknown) => (settled.value = e),
    );
    return settled;
  };
  return { clock, ws, conn, start };
}

describe('the API waiting for a consent answer', () => {
  it('times a start_desktop out after the command timeout when the agent says nothing', async () => {
    const { clock, start } = setup();
    const r = start();
    await clock.advance(30_000);
    expect(r.value).toMatchObject({ status: 504, code: 'timeout' });
  });

  it('waits the consent timeout plus the command timeout once the agent says it waits', async () => {
    const { clock, ws, start } = setup();
    const r = start();
    await clock.advance(1000);
    ws.agent({ type: 'waiting', id: ws.sent[0]!.id, for: 'consent', timeoutMs: 60_000 });
    await clock.advance(88_999);
    expect(r.value).toBeUndefined();
    ws.agent({
      id: ws.sent[0]!.id,
      type: 'result',
      ok: true,
      result: { sessionId: 'desk-1', answer: 'v=0 a' },
    });
    await settle();
    expect(r.value).toEqual({ sessionId: 'desk-1', answer: 'v=0 a' });
  });

  it('moves the deadline once only, so an agent cannot hold a request open forever', async () => {
    const { clock, ws, start } = setup();
    const r = start();
    const id = ws.sent[0]!.id;
    ws.agent({ type: 'waiting', id, for: 'consent', timeoutMs: 60_000 });
    await clock.advance(80_000);
    ws.agent({ type: 'waiting', id, for: 'consent', timeoutMs: 60_000 });
    await clock.advance(10_000);
    expect(r.value).toMatchObject({ status: 504, code: 'timeout' });
    expect((r.value as HttpError).message).toMatch(/after waiting for the consent prompt/);
  });

  it('ignores a waiting message that is malformed, over the bound, or for another command', async () => {
    const { clock, ws, conn, start } = setup();
    const r = start();
    const id = ws.sent[0]!.id;
    ws.agent({ type: 'waiting', id, for: 'consent', timeoutMs: 300_001 });
    ws.agent({ type: 'waiting', id, for: 'coffee', timeoutMs: 1000 });
    ws.agent({ type: 'waiting', id: 'other-1', for: 'consent', timeoutMs: 1000 });
    const list = conn.command('list_sessions', {});
    list.catch(() => {});
    ws.agent({ type: 'waiting', id: ws.sent[1]!.id, for: 'consent', timeoutMs: 60_000 });
    await clock.advance(30_000);
    expect(r.value).toMatchObject({ status: 504, code: 'timeout' });
    await expect(list).rejects.toMatchObject({ status: 504 });
  });

  it.each(['consent_denied', 'consent_timeout'])(
    'answers %s with 403 and the agent’s message',
    async (code) => {
      const { ws, start } = setup();
      const r = start();
      ws.agent({
        id: ws.sent[0]!.id,
        type: 'result',
        ok: false,
        error: { code, message: 'the user said no' },
      });
      await settle();
      expect(r.value).toBeInstanceOf(HttpError);
      expect(r.value).toMatchObject({ status: 403, code, message: 'the user said no' });
    },
  );
});
