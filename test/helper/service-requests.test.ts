import { describe, expect, it } from 'vitest';
import { ChannelServiceRequests } from '../../src/helper/service-requests.js';
import { RequestTimeoutError } from '../../src/ipc/errors.js';
import type { HelperToService, ServiceToHelper } from '../../src/protocol/ipc.js';

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
});
