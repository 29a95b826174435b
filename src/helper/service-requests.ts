/**
 * What the helper asks of the service over its channel: today only Ctrl+Alt+Del, which Windows lets
 * only a service send (../service/secure-attention.ts). The desktop host is built before the channel
 * exists, so it gets this object, and the channel is attached once the handshake is done.
 */
import { errorMessage } from '../errors/error-text.js';
import type { HelperToService, SecureAttentionResult, ServiceToHelper } from '../protocol/ipc.js';

export type SecureAttentionAnswer = Omit<SecureAttentionResult, 'type'>;

export interface ServiceRequests {
  /** Asks the service to send Ctrl+Alt+Del into this helper's session; never rejects. */
  secureAttention(): Promise<SecureAttentionAnswer>;
}

/** The side of the channel this needs (Channel.request). */
export interface RequestChannel {
  request(body: HelperToService, options: { timeoutMs?: number }): Promise<ServiceToHelper>;
}

/** Longer than a SendSAS takes; a service that does not answer in this time is stuck. */
const SECURE_ATTENTION_TIMEOUT_MS = 5000;

export class ChannelServiceRequests implements ServiceRequests {
  #channel: RequestChannel | undefined;

  attach(channel: RequestChannel): void {
    this.#channel = channel;
  }

  async secureAttention(): Promise<SecureAttentionAnswer> {
    const channel = this.#channel;
    if (!channel) return { outcome: 'unsupported', reason: 'this helper is not connected to a service' };
    try {
      const reply = await channel.request(
        { type: 'secure_attention' },
        { timeoutMs: SECURE_ATTENTION_TIMEOUT_MS },
      );
      if (reply.type !== 'secure_attention_result') {
        return { outcome: 'failed', reason: `the service answered with ${reply.type}` };
      }
      const { type: _type, ...answer } = reply;
      return answer;
    } catch (err) {
      return { outcome: 'failed', reason: `the service did not answer: ${errorMessage(err)}` };
    }
  }
}
