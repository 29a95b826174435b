/**
 * A HelperLink without sockets or crypto, for the broker and supervisor tests: the test plays the
 * helper's side. The handshake (`openLink`) completes or fails when the test says so, and fails by
 * itself if the helper's channel closes first, as the real one does.
 */
import type { Duplex } from 'node:stream';
import type { Capabilities, HelperToService, ServiceToHelper } from '../../src/protocol/ipc.js';
import type { HelperLink, OpenHelperLink } from '../../src/service/helper-link.js';

export function capabilities(sessionId: number, extra: Partial<Capabilities> = {}): Capabilities {
  return {
    type: 'capabilities',
    sessionId,
    canCapture: true,
    displays: [{ index: 0, name: 'd0', x: 0, y: 0, width: 1280, height: 720, primary: true }],
    pid: 1,
    platform: 'linux',
    ...extra,
  };
}

/** How a helper answers desktop_start / desktop_stop unless a test says otherwise. */
export function defaultAnswer(body: ServiceToHelper): HelperToService {
  if (body.type === 'desktop_start')
    return { type: 'desktop_started', sessionId: body.sessionId, answer: `answer for ${body.sessionId}` };
  if (body.type === 'desktop_stop')
    return { type: 'desktop_stopped', sessionId: body.sessionId, existed: true };
  throw new Error(`no answer to ${body.type}`);
}

/** The service's end of one helper's link. */
export class FakeHelperLink implements HelperLink {
  /** Everything the service sent or asked, in order. */
  readonly sent: ServiceToHelper[] = [];
  /** How the "helper" answers requests. */
  answer: (body: ServiceToHelper) => HelperToService | Promise<HelperToService> = defaultAnswer;
  closed = false;
  private readonly messageListeners: ((body: HelperToService) => void)[] = [];
  private requestHandler: ((body: HelperToService) => Promise<ServiceToHelper>) | undefined;
  private readonly closeListeners: ((reason: string) => void)[] = [];

  async request(body: ServiceToHelper, _timeoutMs: number): Promise<HelperToService> {
    if (this.closed) throw new Error('link closed');
    this.sent.push(body);
    return this.answer(body);
  }

  send(body: ServiceToHelper): void {
    if (this.closed) throw new Error('link closed');
    this.sent.push(body);
  }

  onMessage(listener: (body: HelperToService) => void): void {
    this.messageListeners.push(listener);
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  onRequest(handler: (body: HelperToService) => Promise<ServiceToHelper>): void {
    this.requestHandler = handler;
  }

  /** A request from the helper, answered by the service's handler. */
  async ask(body: HelperToService): Promise<ServiceToHelper> {
    if (this.closed) throw new Error('link closed');
    if (!this.requestHandler) throw new Error('the service registered no request handler');
    return this.requestHandler(body);
  }

  close(): void {
    this.drop('closed by the service');
  }

  /** A message from the helper. */
  emit(body: HelperToService): void {
    for (const l of this.messageListeners) l(body);
  }

  /** The channel closes (either side); listeners hear of it asynchronously, as with the real link. */
  drop(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => {
      for (const l of this.closeListeners) l(reason);
    });
  }
}

interface Handshake {
  resolve(link: FakeHelperLink): void;
  reject(err: Error): void;
}

/** The `openLink` of the tests: one handshake per helper id, completed by `accept` or `refuse`. */
export class FakeLinks {
  readonly links = new Map<string, FakeHelperLink>();
  private readonly handshakes = new Map<string, Handshake>();

  readonly open: OpenHelperLink = (stream: Duplex, helperId: string) =>
    new Promise<HelperLink>((resolve, reject) => {
      const onClose = (): void => {
        this.handshakes.delete(helperId);
        reject(new Error('channel closed during the handshake'));
      };
      if (stream.destroyed) return onClose();
      stream.once('close', onClose);
      this.handshakes.set(helperId, {
        resolve: (link) => {
          stream.off('close', onClose);
          resolve(link);
        },
        reject: (err) => {
          stream.off('close', onClose);
          reject(err);
        },
      });
    });

  /** Helper ids whose handshake has started and not ended. */
  get waiting(): string[] {
    return [...this.handshakes.keys()];
  }

  /** Completes the handshake of this helper. */
  accept(helperId: string): FakeHelperLink {
    const link = new FakeHelperLink();
    this.take(helperId).resolve(link);
    this.links.set(helperId, link);
    return link;
  }

  /** Fails the handshake of this helper (a wrong proof, a bad hello). */
  refuse(helperId: string, err = new Error('handshake refused')): void {
    this.take(helperId).reject(err);
  }

  private take(helperId: string): Handshake {
    const h = this.handshakes.get(helperId);
    if (!h) throw new Error(`no handshake in progress for ${helperId}`);
    this.handshakes.delete(helperId);
    return h;
  }
}
