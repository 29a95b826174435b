import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChannelServiceRequests } from '../../src/helper/service-requests.js';
import { RequestTimeoutError } from '../../src/ipc/errors.js';
import { acceptHelperChannel, connectHelperChannel } from '../../src/ipc/inherited.js';
import {
  parseHelperToService,
  parseServiceToHelper,
  type HelperToService,
  type ServiceToHelper,
} from '../../src/protocol/ipc.js';
import { helperLinkOf } from '../../src/service/ipc-link.js';
import { SecureAttentionRelay } from '../../src/service/secure-attention.js';
import { duplexPair } from '../../src/service/spawn/fake-helper-spawner.js';

describe('ChannelServiceRequests', () => {
  it('answers unsupported until the channel to the service is up', async () => {
    await expect(new ChannelServiceRequests().secureAttention()).resolves.toEqual({
      outcome: 'unsupported',
      reason: 'this helper is not connected to a service',
    });
  });

  it('asks with a bare secure_attention request and passes the service’s answer on', async () => {
    const asked: HelperToService[] = [];
    const services = new ChannelServiceRequests();
    services.attach({
      request: async (body) => {
        asked.push(body);
        return {
          type: 'secure_attention_result',
          outcome: 'rate_limited',
          reason: 'wait',
          retryAfterMs: 2000,
        };
      },
    });
    await expect(services.secureAttention()).resolves.toEqual({
      outcome: 'rate_limited',
      reason: 'wait',
      retryAfterMs: 2000,
    });
    expect(asked).toEqual([{ type: 'secure_attention' }]);
  });

  it('turns a timeout or a wrong answer into failed, never a rejection', async () => {
    const services = new ChannelServiceRequests();
    services.attach({
      request: async () => {
        throw new RequestTimeoutError(5000);
      },
    });
    await expect(services.secureAttention()).resolves.toEqual({
      outcome: 'failed',
      reason: 'the service did not answer: no response within 5000 ms',
    });
    services.attach({
      request: async (): Promise<ServiceToHelper> => ({ type: 'shutdown', reason: 'x' }),
    });
    await expect(services.secureAttention()).resolves.toEqual({
      outcome: 'failed',
      reason: 'the service answered with shutdown',
    });
  });

  it('crosses a real channel both ways: request and answer through the framing and both validators', async () => {
    const [serviceEnd, helperEnd] = duplexPair();
    const secret = randomBytes(32);
    const [serviceChannel, helperChannel] = await Promise.all([
      acceptHelperChannel<HelperToService, ServiceToHelper>(serviceEnd, {
        helperId: 'h',
        secret,
        validate: parseHelperToService,
      }),
      connectHelperChannel<ServiceToHelper, HelperToService>(helperEnd, {
        helperId: 'h',
        secret,
        validate: parseServiceToHelper,
      }),
    ]);
    const sessions: number[] = [];
    const relay = new SecureAttentionRelay({
      sender: { send: (id) => (sessions.push(id), { outcome: 'sent' }) },
      log: { info: () => {}, warn: () => {} },
    });
    helperLinkOf(serviceChannel).onRequest(async (body) => {
      if (body.type !== 'secure_attention') throw new Error(body.type);
      return relay.request(7);
    });
    const services = new ChannelServiceRequests();
    services.attach(helperChannel);
    try {
      await expect(services.secureAttention()).resolves.toEqual({ outcome: 'sent' });
      await expect(services.secureAttention()).resolves.toMatchObject({ outcome: 'rate_limited' });
      expect(sessions).toEqual([7]);
    } finally {
      helperChannel.close();
      serviceChannel.close();
    }
  });
});
