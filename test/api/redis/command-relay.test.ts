/**
 * The command relay between two instances over an in-memory stand-in for Redis pub/sub (only
 * `publish` is used), on a fake clock: deadlines, the consent extension, at-most-once answers, a
 * gone owner and an unreachable Redis, without a Redis server or wall-clock waits.
 */
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log/logger.js';
import { HttpError } from '../../../src/api/http-json.js';
import { CommandRelay, RELAY_MARGIN_MS } from '../../../src/api/redis/command-relay.js';
import type { FleetHandlers, RelayedCommand } from '../../../src/api/redis/fleet.js';
import { instanceChannel, parseRelayMessage } from '../../../src/api/redis/relay-messages.js';
import { FakeClock, settle } from '../../fixtures/fake-clock.js';

const TIMEOUT = 1000;
const A = 'aaaaaaaaaaaa';
const B = 'bbbbbbbbbbbb';

/** Channels → relays, as Redis would deliver; `down` makes every publish fail; `drop` loses messages. */
class Bus {
  readonly relays = new Map<string, CommandRelay>();
  readonly sent: string[] = [];
  down = false;
  duplicate = false;
  client(): Redis {
    return {
      publish: async (channel: string, text: string) => {
        if (this.down) throw new Error('Stream isn’t writeable');
        this.sent.push(text);
        const to = this.relays.get(channel);
        if (!to) return 0;
        const deliver = () => queueMicrotask(() => to.onMessage(parseRelayMessage(text)));
        deliver();
        if (this.duplicate) deliver();
        return 1;
      },
    } as unknown as Redis;
  }
}

function pair(onCommand: (cmd: RelayedCommand) => Promise<unknown>) {
  const clock = new FakeClock();
  const bus = new Bus();
  const gone: string[] = [];
  const make = (id: string) =>
    new CommandRelay({
      instanceId: id,
      redis: bus.client(),
      commandTimeoutMs: TIMEOUT,
      log: silentLogger,
      timers: clock,
      onOwnerGone: (deviceId, owner) => gone.push(`${deviceId}@${owner}`),
    });
  const requester = make(A);
  const owner = make(B);
  const handlers: FleetHandlers = { onTakeover: () => {}, onRevocation: () => {}, onCommand };
  requester.attach(handlers);
  owner.attach(handlers);
  bus.relays.set(instanceChannel(A), requester);
  bus.relays.set(instanceChannel(B), owner);
  return { clock, bus, requester, owner, gone };
}

async function outcome<T>(p: Promise<T>): Promise<T | HttpError> {
  return p.catch((err: unknown) => {
    if (err instanceof HttpError) return err;
    throw err;
  });
}

describe('CommandRelay', () => {
  it('returns the owner’s validated result and runs the command once', async () => {
    const runs: RelayedCommand[] = [];
    const { requester } = pair(async (cmd) => {
      runs.push(cmd);
      return { sessions: [] };
    });
    expect(await requester.request(B, 'dev-1', 'list_sessions', {})).toEqual({ sessions: [] });
    expect(runs.map((r) => [r.deviceId, r.type])).toEqual([['dev-1', 'list_sessions']]);
    expect(requester.inFlight).toBe(0);
  });

  it('runs a command delivered twice only once, and settles its request once', async () => {
    let runs = 0;
    const { requester, bus } = pair(async () => {
      runs += 1;
      return { sessions: [] };
    });
    bus.duplicate = true;
    expect(await requester.request(B, 'dev-1', 'list_sessions', {})).toEqual({ sessions: [] });
    await settle();
    expect(runs).toBe(1);
    expect(bus.sent.filter((t) => t.includes('"t":"reply"'))).toHaveLength(1);
  });

  it('passes the owner’s HttpError on with its status, code and Retry-After', async () => {
    const { requester } = pair(async () => {
      throw new HttpError(503, 'too_many_viewers', 'full', undefined, { 'retry-after': '5' });
    });
    const err = await outcome(requester.request(B, 'dev-1', 'list_sessions', {}));
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status: 503, code: 'too_many_viewers', message: 'full' });
    expect((err as HttpError).headers).toEqual({ 'retry-after': '5' });
  });

  it('answers an invalid result from the owner with 502 bad_agent_reply', async () => {
    const { requester } = pair(async () => ({ sessions: 'many' }));
    const err = await outcome(requester.request(B, 'dev-1', 'list_sessions', {}));
    expect(err).toMatchObject({ status: 502, code: 'bad_agent_reply' });
  });

  it('times out with 504 after the command timeout plus the margin when the owner never answers', async () => {
    const { requester, clock } = pair(() => new Promise(() => {}));
    const pending = outcome(requester.request(B, 'dev-1', 'list_sessions', {}));
    await clock.advance(TIMEOUT + RELAY_MARGIN_MS - 1);
    expect(requester.inFlight).toBe(1);
    await clock.advance(1);
    expect(await pending).toMatchObject({ status: 504, code: 'timeout' });
  });

  it('moves the deadline once when the owner relays a consent wait, for start_desktop only', async () => {
    let accept: (v: unknown) => void = () => {};
    const { requester, clock } = pair(async (cmd) => {
      cmd.onWaiting(5000);
      cmd.onWaiting(60_000); // a second wait is ignored, as locally
      return new Promise((r) => (accept = r));
    });
    const payload = { sessionId: 'desk-1', offer: 'v=0', iceServers: [] };
    const pending = outcome(requester.request(B, 'dev-1', 'start_desktop', payload as never));
    await clock.advance(TIMEOUT + RELAY_MARGIN_MS + 1000); // past the first deadline
    expect(requester.inFlight).toBe(1);
    accept({ sessionId: 'desk-1', answer: 'v=0\r\n' });
    expect(await pending).toEqual({ sessionId: 'desk-1', answer: 'v=0\r\n' });

    const late = outcome(requester.request(B, 'dev-1', 'start_desktop', payload as never));
    await clock.advance(5000 + TIMEOUT + RELAY_MARGIN_MS);
    expect(await late).toMatchObject({ status: 504, code: 'timeout' });
  });

  it('ignores a reply that arrives after its request timed out', async () => {
    let answer: (v: unknown) => void = () => {};
    const { requester, clock } = pair(() => new Promise((r) => (answer = r)));
    const pending = outcome(requester.request(B, 'dev-1', 'list_sessions', {}));
    await clock.advance(TIMEOUT + RELAY_MARGIN_MS);
    expect(await pending).toMatchObject({ code: 'timeout' });
    answer({ sessions: [] });
    await settle();
    expect(requester.inFlight).toBe(0);
  });

  it('answers 409 device_offline and forgets the key when the owner is not listening', async () => {
    const { requester, bus, gone } = pair(async () => ({ sessions: [] }));
    bus.relays.delete(instanceChannel(B));
    const err = await outcome(requester.request(B, 'dev-1', 'list_sessions', {}));
    expect(err).toMatchObject({ status: 409, code: 'device_offline' });
    expect(gone).toEqual([`dev-1@${B}`]);
  });

  it('answers 503 routing_unavailable with Retry-After when Redis cannot be reached', async () => {
    const { requester, bus } = pair(async () => ({ sessions: [] }));
    bus.down = true;
    const err = await outcome(requester.request(B, 'dev-1', 'list_sessions', {}));
    expect(err).toMatchObject({ status: 503, code: 'routing_unavailable' });
    expect((err as HttpError).headers['retry-after']).toBe('2');
  });

  it('fails its requests in flight with 503 when the instance closes', async () => {
    const { requester } = pair(() => new Promise(() => {}));
    const pending = outcome(requester.request(B, 'dev-1', 'list_sessions', {}));
    await settle();
    requester.close();
    expect(await pending).toMatchObject({ status: 503, code: 'routing_unavailable' });
  });
});

describe('relay messages', () => {
  it('rejects messages of unknown kind, bad ids and inconsistent replies, naming the field', () => {
    expect(() => parseRelayMessage('nope')).toThrow(/not JSON/);
    expect(() => parseRelayMessage(JSON.stringify({ t: 'exec' }))).toThrow(/t: is not a known/);
    const cmd = { t: 'cmd', rid: 'r-1', from: A, deviceId: 'dev-1', type: 'list_sessions', payload: {} };
    expect(parseRelayMessage(JSON.stringify(cmd))).toEqual(cmd);
    expect(() => parseRelayMessage(JSON.stringify({ ...cmd, from: 'x' }))).toThrow(/from/);
    expect(() => parseRelayMessage(JSON.stringify({ ...cmd, type: 'reboot' }))).toThrow(/type/);
    expect(() => parseRelayMessage(JSON.stringify({ ...cmd, deviceId: 'a b' }))).toThrow(/deviceId/);
    expect(() => parseRelayMessage(JSON.stringify({ t: 'reply', rid: 'r', ok: false }))).toThrow(/error/);
    const error = { status: 200, code: 'x', message: 'm' };
    expect(() => parseRelayMessage(JSON.stringify({ t: 'reply', rid: 'r', ok: false, error }))).toThrow(
      /error\.status/,
    );
  });
});
