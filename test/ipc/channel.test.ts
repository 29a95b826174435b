import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BackpressureError,
  ChannelClosedError,
  MessageTooLargeError,
  RequestError,
  RequestTimeoutError,
  TooManyRequestsError,
  type CloseReason,
} from '../../src/ipc/errors.js';
import { PortholeError } from '../../src/errors/porthole-error.js';
import { ProtocolError } from '../../src/protocol/validate.js';
import { capturingLogger, openPair, sleep, type Pair, type TestBody } from './helpers.js';
import { waitFor } from '../fixtures/wait-for.js';

const pairs: Pair[] = [];
afterEach(async () => {
  for (const p of pairs.splice(0)) await p.close();
});

async function open(options: Parameters<typeof openPair>[0] = {}): Promise<Pair> {
  const p = await openPair(options);
  pairs.push(p);
  return p;
}

/** The socket under a channel, for tests that need to misbehave below the channel. */
const socketOf = (channel: object): Socket => (channel as unknown as { socket: Socket }).socket;

describe('messages', () => {
  it('delivers one-way messages in order in both directions', async () => {
    const { service, helper } = await open();
    const atService: TestBody[] = [];
    const atHelper: TestBody[] = [];
    service.onMessage((b) => atService.push(b));
    helper.onMessage((b) => atHelper.push(b));
    for (let i = 0; i < 100; i++) helper.send({ type: 'n', i });
    for (let i = 0; i < 10; i++) service.send({ type: 'm', i });
    await waitFor(() => atService.length === 100 && atHelper.length === 10, { timeoutMs: 5_000 });
    expect(atService.map((b) => b.i)).toEqual([...Array(100).keys()]);
    expect(atHelper.map((b) => b.i)).toEqual([...Array(10).keys()]);
  });

  it('holds messages that arrive before a handler is registered and delivers them in order', async () => {
    const { service, helper } = await open();
    helper.send({ type: 'early', i: 0 });
    helper.send({ type: 'early', i: 1 });
    await sleep(50);
    const got: TestBody[] = [];
    service.onMessage((b) => got.push(b));
    expect(got.map((b) => b.i)).toEqual([0, 1]);
  });

  it('keeps the channel open when a message handler throws', async () => {
    const { logger, entries } = capturingLogger();
    const { service, helper } = await open({ server: { logger } });
    let calls = 0;
    service.onMessage(() => {
      calls += 1;
      throw new Error('handler bug');
    });
    helper.send({ type: 'a' });
    helper.send({ type: 'b' });
    await waitFor(() => calls === 2, { timeoutMs: 5_000 });
    expect(service.isOpen).toBe(true);
    expect(entries.filter((e) => e.msg === 'ipc: message handler threw')).toHaveLength(2);
  });

  it('closes the connection when a message body fails validation', async () => {
    const { service, helper } = await open();
    const closed = service.closed;
    helper.send({ notype: true } as unknown as TestBody);
    expect(await closed).toEqual({ code: 'bad_frame', detail: "invalid_body: field 'type'" });
    expect((await helper.closed).code).toBe('peer_closed');
  });

  it('refuses to send a frame above the maximum size and stays open', async () => {
    const { helper } = await open({ helper: { maxFrameBytes: 4096 } });
    expect(() => helper.send({ type: 'big', data: 'x'.repeat(5000) })).toThrow(MessageTooLargeError);
    expect(helper.isOpen).toBe(true);
  });

  it('closes the receiving side when the peer sends a frame above its maximum', async () => {
    const { service, helper } = await open({ server: { maxFrameBytes: 4096 } });
    helper.send({ type: 'big', data: 'x'.repeat(5000) });
    expect(await service.closed).toMatchObject({
      code: 'bad_frame',
      detail: expect.stringMatching(/^oversized_frame/),
    });
  });

  it('throws ChannelClosedError when sending on a closed channel', async () => {
    const { helper } = await open();
    helper.close();
    expect(() => helper.send({ type: 'late' })).toThrow(ChannelClosedError);
    await expect(helper.request({ type: 'late' })).rejects.toBeInstanceOf(ChannelClosedError);
  });
});

describe('requests', () => {
  it('answers requests and correlates concurrent responses by id', async () => {
    const { service, helper } = await open();
    helper.onRequest(async (b) => {
      await sleep(Math.random() * 20);
      return { type: 'answer', i: b.i };
    });
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => service.request({ type: 'question', i })),
    );
    expect(answers.map((a) => a.i)).toEqual([...Array(50).keys()]);
  });

  it('answers requests in both directions on one connection', async () => {
    const { service, helper } = await open();
    service.onRequest((b) => ({ type: 'from-service', echo: b.type }));
    helper.onRequest((b) => ({ type: 'from-helper', echo: b.type }));
    expect(await helper.request({ type: 'ping-service' })).toEqual({
      type: 'from-service',
      echo: 'ping-service',
    });
    expect(await service.request({ type: 'ping-helper' })).toEqual({
      type: 'from-helper',
      echo: 'ping-helper',
    });
  });

  it('turns a RequestError thrown by the handler into an error-response with its code', async () => {
    const { service, helper } = await open();
    helper.onRequest(() => {
      throw new RequestError('no_such_session', 'no desktop session d1');
    });
    const err = (await service.request({ type: 'desktop_stop' }).catch((e) => e)) as RequestError;
    expect(err).toBeInstanceOf(RequestError);
    expect(err.code).toBe('no_such_session');
    expect(err.message).toBe('no desktop session d1');
  });

  it("carries a capacity error's code and retryAfterMs across the channel", async () => {
    const { service, helper } = await open();
    helper.onRequest(() => {
      throw new PortholeError('too_many_viewers', 'this session already has 8 viewers', {
        retryAfterMs: 4_999.2,
      });
    });
    const err = (await service.request({ type: 'desktop_start' }).catch((e) => e)) as RequestError;
    expect([err.code, err.message, err.retryAfterMs]).toEqual([
      'too_many_viewers',
      'this session already has 8 viewers',
      5_000,
    ]);
  });

  it('answers bad_request for a ProtocolError and internal, without its message, for anything else', async () => {
    const { logger, entries } = capturingLogger();
    const { service, helper } = await open({ helper: { logger } });
    helper.onRequest(async (b) => {
      if (b.type === 'invalid') throw new ProtocolError('offer', 'is required');
      throw new Error('database password is hunter2');
    });
    const bad = (await service.request({ type: 'invalid' }).catch((e) => e)) as RequestError;
    expect([bad.code, bad.message]).toEqual(['bad_request', 'offer: is required']);
    const internal = (await service.request({ type: 'boom' }).catch((e) => e)) as RequestError;
    expect([internal.code, internal.message]).toEqual(['internal', 'internal error']);
    expect(entries.some((e) => e.msg === 'ipc: request handler failed')).toBe(true);
    expect(service.isOpen && helper.isOpen).toBe(true);
  });

  it('answers bad_request to a request whose body fails validation, then closes', async () => {
    const { service, helper } = await open();
    service.onRequest(() => ({ type: 'never' }));
    const err = (await helper.request({ nope: 1 } as unknown as TestBody).catch((e) => e)) as RequestError;
    expect(err).toBeInstanceOf(RequestError);
    expect(err.code).toBe('bad_request');
    expect((await service.closed).code).toBe('bad_frame');
  });

  it('rejects with RequestTimeoutError and ignores the late response', async () => {
    const { service, helper } = await open();
    let answered = 0;
    helper.onRequest(async (b) => {
      if (b.type === 'slow') await sleep(150);
      answered += 1;
      return { type: 'done' };
    });
    const started = Date.now();
    const err = (await service
      .request({ type: 'slow' }, { timeoutMs: 50 })
      .catch((e) => e)) as RequestTimeoutError;
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect(err.code).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(service.pendingRequests).toBe(0);
    await waitFor(() => answered === 1, { timeoutMs: 5_000 });
    await sleep(20);
    expect(service.isOpen).toBe(true);
    expect(await service.request({ type: 'fast' })).toEqual({ type: 'done' });
  });

  it('caps the requests awaiting a response', async () => {
    const { service, helper } = await open({ server: { maxPendingRequests: 2 } });
    helper.onRequest(async () => {
      await sleep(50);
      return { type: 'ok' };
    });
    const first = service.request({ type: 'a' });
    const second = service.request({ type: 'b' });
    await expect(service.request({ type: 'c' })).rejects.toBeInstanceOf(TooManyRequestsError);
    await Promise.all([first, second]);
    await expect(service.request({ type: 'd' })).resolves.toEqual({ type: 'ok' });
  });

  it('holds requests that arrive before a handler is registered', async () => {
    const { service, helper } = await open();
    const answer = helper.request({ type: 'early' });
    await sleep(30);
    service.onRequest((b) => ({ type: 'late-handler', echo: b.type }));
    expect(await answer).toEqual({ type: 'late-handler', echo: 'early' });
  });

  it('rejects pending requests with ChannelClosedError when the peer goes away', async () => {
    const { service, helper } = await open();
    helper.onRequest(() => new Promise<TestBody>(() => {}));
    const pending = service.request({ type: 'forever' });
    await sleep(20);
    socketOf(helper).destroy();
    const err = (await pending.catch((e) => e)) as ChannelClosedError;
    expect(err).toBeInstanceOf(ChannelClosedError);
    expect(err.reason.code).toBe('peer_closed');
  });

  it('closes the connection when a response body fails validation', async () => {
    const { service, helper } = await open();
    helper.onRequest(() => ({ wrong: true }) as unknown as TestBody);
    await expect(service.request({ type: 'q' })).rejects.toBeInstanceOf(ChannelClosedError);
    expect((await service.closed).detail).toMatch(/^invalid_body/);
  });
});

describe('limits', () => {
  it('closes a connection whose peer exceeds the frame rate limit', async () => {
    const { logger, entries } = capturingLogger();
    const { service, helper } = await open({
      server: { rateLimit: { framesPerSecond: 100, burst: 50 }, logger },
    });
    service.onMessage(() => {});
    for (let i = 0; i < 49; i++) helper.send({ type: 'within-burst' });
    await sleep(50);
    expect(service.isOpen).toBe(true);
    for (let i = 0; i < 200; i++) if (helper.isOpen) helper.send({ type: 'flood' });
    expect(await service.closed).toEqual({ code: 'rate_limited', detail: 'incoming frame rate exceeded' });
    expect(entries.filter((e) => e.level === 'warn' && e.msg === 'ipc: channel closed')).toHaveLength(1);
  });

  it('keeps a quiet connection alive with pings beyond the idle timeout', async () => {
    const { service, helper } = await open({
      server: { idleTimeoutMs: 500, pingIntervalMs: 100 },
      helper: { idleTimeoutMs: 500, pingIntervalMs: 100 },
    });
    await sleep(1_200);
    expect(service.isOpen && helper.isOpen).toBe(true);
  });

  it('closes a connection whose peer stops answering pings', async () => {
    const { service, helper } = await open({
      server: { idleTimeoutMs: 200, pingIntervalMs: 50 },
      helper: { idleTimeoutMs: 60_000, pingIntervalMs: 60_000 },
    });
    socketOf(helper).pause(); // the helper process is alive but no longer reads or answers
    const started = Date.now();
    const reason: CloseReason = await service.closed;
    expect(reason.code).toBe('idle_timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('closes a peer that dribbles an unfinished frame: only authenticated frames count as life', async () => {
    const { service, helper } = await open({
      server: { idleTimeoutMs: 300, pingIntervalMs: 100 },
      helper: { idleTimeoutMs: 60_000, pingIntervalMs: 60_000 },
    });
    const raw = socketOf(helper);
    raw.pause();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1000); // a frame of 1000 bytes that never completes
    raw.write(header);
    const dribble = setInterval(() => raw.write(Buffer.from([0x01])), 50);
    try {
      const reason = await Promise.race([
        service.closed,
        sleep(5_000).then((): CloseReason => ({
          code: 'closed',
          detail: 'still open after 5 s of dribbling',
        })),
      ]);
      expect(reason.code).toBe('idle_timeout');
    } finally {
      clearInterval(dribble);
    }
  });

  it('signals back-pressure, throws past its bound, and recovers once the peer reads', async () => {
    const { service, helper } = await open({
      server: { maxQueuedBytes: 1024 * 1024, idleTimeoutMs: 60_000 },
      helper: { idleTimeoutMs: 60_000 },
    });
    const received: TestBody[] = [];
    helper.onMessage((b) => received.push(b));
    socketOf(helper).pause();
    const chunk = 'x'.repeat(32 * 1024);
    let sent = 0;
    let sawFalse = false;
    let error: unknown;
    while (sent < 10_000) {
      try {
        if (!service.send({ type: 'bulk', chunk })) sawFalse = true;
        sent += 1;
      } catch (err) {
        error = err;
        break;
      }
      if (sent % 8 === 0) await sleep(1); // let the kernel buffer fill
    }
    expect(sawFalse).toBe(true);
    expect(error).toBeInstanceOf(BackpressureError);
    expect(service.isOpen).toBe(true);
    socketOf(helper).resume();
    await service.drained();
    await waitFor(() => received.length === sent, { what: 'all queued messages', timeoutMs: 10_000 });
    expect(service.send({ type: 'after' })).toBe(true);
  });

  it('tells each side why the other closed: a graceful close reaches the peer as peer_closed', async () => {
    const { service, helper } = await open();
    const events: CloseReason[] = [];
    service.on('close', (r) => events.push(r));
    helper.close();
    expect(await helper.closed).toEqual({ code: 'closed' });
    expect(await service.closed).toEqual({ code: 'peer_closed' });
    await waitFor(() => events.length === 1, { timeoutMs: 5_000 });
  });
});
