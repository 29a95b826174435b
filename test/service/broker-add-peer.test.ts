/**
 * The broker's `add_peer` (a running desktop's second peer after the viewer's network changed): it
 * goes to the helper serving that desktop, with no consent prompt, and a desktop the broker does not
 * know is `no_such_desktop` without asking any helper.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RequestError } from '../../src/ipc/errors.js';
import type { AddPeer } from '../../src/protocol/api.js';
import type { ServiceToHelper } from '../../src/protocol/ipc.js';
import { silentLogger } from '../../src/log/logger.js';
import { SessionBroker } from '../../src/service/broker.js';
import { DEFAULT_ACCESS_POLICY } from '../../src/service/access-policy.js';
import { helperConsentPrompter } from '../../src/service/consent/helper-consent-prompter.js';
import { FakeSessionDetector } from '../../src/service/sessions/fake-session-detector.js';
import { FakeHelperSpawner } from '../../src/service/spawn/fake-helper-spawner.js';
import { FakeClock, settle } from '../fixtures/fake-clock.js';
import { capabilities, defaultAnswer, FakeLinks } from './fake-helper-link.js';

const brokers: SessionBroker[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) void b.stop();
  await settle();
});

/** A broker under `consent: always` whose one session's helper is up and accepts every prompt. */
async function setup() {
  const spawner = new FakeHelperSpawner();
  const links = new FakeLinks();
  const broker = new SessionBroker({
    detector: new FakeSessionDetector([
      { sessionId: 1, username: 'alice', state: 'active', type: 'x11', console: true },
    ]),
    spawner,
    openLink: links.open,
    log: silentLogger,
    timers: new FakeClock(),
    random: () => 1,
    access: { ...DEFAULT_ACCESS_POLICY, consent: 'always' },
    consentPrompter: helperConsentPrompter,
  });
  brokers.push(broker);
  await broker.start();
  await settle();
  const link = links.accept(spawner.spawned.at(-1)!.helperId);
  await settle();
  link.emit(capabilities(1));
  await settle();
  link.answer = (body: ServiceToHelper) => {
    if (body.type === 'consent_prompt') return { type: 'consent_answer', outcome: 'accepted' };
    if (body.type === 'desktop_add_peer')
      return { type: 'desktop_started', sessionId: body.sessionId, answer: 'second answer' };
    return defaultAnswer(body);
  };
  return { broker, link };
}

const addPeer = (sessionId: string): AddPeer => ({
  sessionId,
  offer: 'v=0 second',
  iceServers: [],
  viewer: { name: 'carol' },
});

describe('session broker: add_peer', () => {
  it('relays it to the desktop’s helper without a consent prompt', async () => {
    const { broker, link } = await setup();
    await broker.startDesktop({
      sessionId: 'd1',
      offer: 'v=0',
      iceServers: [],
      targetSessionId: 1,
      viewer: { name: 'carol' },
    });
    expect(link.sent.map((b) => b.type)).toEqual(['consent_prompt', 'desktop_start']);
    await expect(broker.addPeer(addPeer('d1'))).resolves.toEqual({
      sessionId: 'd1',
      answer: 'second answer',
    });
    expect(link.sent.map((b) => b.type)).toEqual(['consent_prompt', 'desktop_start', 'desktop_add_peer']);
    expect(link.sent.at(-1)).toEqual({
      type: 'desktop_add_peer',
      sessionId: 'd1',
      offer: 'v=0 second',
      iceServers: [],
      viewer: { name: 'carol' },
    });
  });

  it('answers no_such_desktop for a desktop it did not start or that closed, asking no helper', async () => {
    const { broker, link } = await setup();
    await expect(broker.addPeer(addPeer('nope'))).rejects.toMatchObject({ code: 'no_such_desktop' });
    await broker.startDesktop({ sessionId: 'd1', offer: 'v=0', iceServers: [], targetSessionId: 1 });
    link.emit({ type: 'event', name: 'desktop_closed', sessionId: 'd1' });
    await settle();
    await expect(broker.addPeer(addPeer('d1'))).rejects.toMatchObject({ code: 'no_such_desktop' });
    expect(link.sent.some((b) => b.type === 'desktop_add_peer')).toBe(false);
  });

  it('passes the helper’s refusal on with its code', async () => {
    const { broker, link } = await setup();
    await broker.startDesktop({ sessionId: 'd1', offer: 'v=0', iceServers: [], targetSessionId: 1 });
    link.answer = (body) => {
      if (body.type === 'desktop_add_peer') throw new RequestError('no_such_desktop', 'another viewer');
      return defaultAnswer(body);
    };
    await expect(broker.addPeer(addPeer('d1'))).rejects.toMatchObject({ code: 'no_such_desktop' });
  });
});
