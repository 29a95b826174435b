import type { Channel } from '../ipc/channel.js';
import { RequestError } from '../ipc/errors.js';
import {
  connectHelperChannel,
  connectInheritedChannel,
  type InheritedChannelOptions,
} from '../ipc/inherited.js';
import { connectIpc } from '../ipc/transport.js';
import { readSecretFromStdin } from '../ipc/secret.js';
import type { Logger } from '../log/logger.js';
import { parseServiceToHelper, type HelperToService, type ServiceToHelper } from '../protocol/ipc.js';
import { PortholeError } from '../errors/porthole-error.js';
import { auditForwarder } from './audit-forwarder.js';
import { isReplyErrorCode } from '../errors/reply-codes.js';
import type { DesktopHost } from './host/desktop-host.js';
import { errorMessage } from '../errors/error-text.js';
import type { ChannelServiceRequests } from './service-requests.js';
import type { ExpectedPipeServer } from './service-pipe.js';
import type { ConsentPromptUi } from './consent/consent-prompt.js';

export interface HelperOptions {
  sessionId: number;
  helperId: string;
  channelFd: number;
  /**
   * Windows: the named pipe the service created for this helper (instead of an inherited fd), and the
   * service process that must be serving it (service-pipe.ts).
   */
  pipe?: { name: string; server: ExpectedPipeServer };
  host: DesktopHost;
  /** Attached to the channel once it is up: what the desktops ask of the service (Ctrl+Alt+Del). */
  services?: ChannelServiceRequests;
  /** Shows the consent prompts the service asks for (X11); without it they are answered `unavailable`. */
  consent?: ConsentPromptUi;
  log: Logger;
  secretTimeoutMs?: number;
  /** How long the desktops' teardown may take once the helper stops (default 700 ms). */
  teardownMs?: number;
}

/**
 * A failed desktop_start as the service hears it. A coded failure (a bad offer is `bad_request`, a
 * full helper `too_many_viewers`) keeps its code and `retryAfterMs`; anything else is `internal`,
 * with its message: it says what failed in the helper.
 */
export function desktopStartError(err: unknown): RequestError {
  const coded = err instanceof PortholeError && isReplyErrorCode(err.code);
  return new RequestError(coded ? err.code : 'internal', errorMessage(err), {
    cause: err,
    retryAfterMs: coded ? err.retryAfterMs : undefined,
  });
}

/**
 * The broker pipe: on Windows through the helper's own pipe client, which refuses to be impersonated
 * and checks the server before the handshake (service-pipe.ts); elsewhere (tests of the pipe path on
 * another platform) through node:net.
 */
async function connectPipe(
  pipe: NonNullable<HelperOptions['pipe']>,
  channelOptions: InheritedChannelOptions<ServiceToHelper>,
  log: Logger,
): Promise<Channel<ServiceToHelper, HelperToService>> {
  if (process.platform !== 'win32') {
    return connectIpc<ServiceToHelper, HelperToService>({ path: pipe.name, ...channelOptions });
  }
  const [{ connectServicePipe, win32PipeClientApi }, { EventWaiter }] = await Promise.all([
    import('./service-pipe.js'),
    import('../native/win32/event-waiter.js'),
  ]);
  // One waiter for the helper's life: the pipe's reads and writes complete through it.
  const stream = await connectServicePipe({
    name: pipe.name,
    expected: pipe.server,
    api: win32PipeClientApi(new EventWaiter()),
    log,
  });
  return connectHelperChannel<ServiceToHelper, HelperToService>(stream, channelOptions);
}

/**
 * The helper's life: secret from stdin → handshake on the inherited channel → capabilities → serve
 * desktop_start/desktop_stop until the channel closes (service stopped or died) → tear down → exit.
 * Resolves with the process exit code.
 */
export async function runHelper(opts: HelperOptions): Promise<number> {
  const { log, host } = opts;
  let secret: Buffer;
  try {
    secret = await readSecretFromStdin(process.stdin, { timeoutMs: opts.secretTimeoutMs ?? 10_000 });
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'refusing to run without a broker secret on stdin');
    return 2;
  }
  const channelOptions = {
    helperId: opts.helperId,
    secret,
    validate: parseServiceToHelper,
    logger: log,
  };
  const channel = opts.pipe
    ? await connectPipe(opts.pipe, channelOptions, log)
    : await connectInheritedChannel<ServiceToHelper, HelperToService>({
        fd: opts.channelFd,
        ...channelOptions,
      });
  secret.fill(0);
  log.info({}, 'helper connected to the service');
  opts.services?.attach(channel);

  host.onAudit?.(auditForwarder((body) => channel.send(body), log));
  host.onClosed((desktopId, why) => {
    channel.send({ type: 'event', name: 'desktop_closed', sessionId: desktopId, detail: why.slice(0, 2000) });
  });
  channel.onRequest(async (body) => {
    switch (body.type) {
      case 'desktop_start': {
        const answer = await host.start(body).catch((err: unknown) => {
          throw desktopStartError(err);
        });
        return answer !== undefined
          ? { type: 'desktop_started', sessionId: body.sessionId, answer }
          : { type: 'desktop_started', sessionId: body.sessionId };
      }
      case 'desktop_add_peer': {
        if (!host.addPeer)
          throw new RequestError('bad_request', 'this helper cannot add a peer to a desktop');
        const answer = await host.addPeer(body).catch((err: unknown) => {
          throw desktopStartError(err);
        });
        return { type: 'desktop_started', sessionId: body.sessionId, answer };
      }
      case 'consent_prompt': {
        const { type: _type, ...question } = body;
        const answer = opts.consent
          ? await opts.consent.ask(question)
          : { outcome: 'unavailable' as const, reason: 'this helper shows no consent prompts' };
        return {
          type: 'consent_answer',
          outcome: answer.outcome,
          ...(answer.reason ? { reason: answer.reason.slice(0, 1000) } : {}),
        };
      }
      case 'desktop_stop':
        return {
          type: 'desktop_stopped',
          sessionId: body.sessionId,
          existed: await host.stop(body.sessionId),
        };
      default:
        throw new RequestError('bad_request', `${body.type} is not a request`);
    }
  });
  let shutdownReason: string | undefined;
  channel.onMessage((body) => {
    if (body.type === 'shutdown') {
      shutdownReason = body.reason;
      channel.close();
    }
  });

  const caps = await host.capabilities();
  channel.send({
    type: 'capabilities',
    sessionId: opts.sessionId,
    canCapture: caps.canCapture,
    displays: caps.displays,
    pid: process.pid,
    platform: process.platform,
    ...(caps.reason ? { reason: caps.reason.slice(0, 2000) } : {}),
  });

  // The handlers stay installed through the teardown: with `once`, a second SIGTERM would take
  // Node's default action and kill the helper halfway through closing its desktops.
  let onSignal: (sig: NodeJS.Signals) => void = () => {};
  const stopSignal = new Promise<string>((resolve) => (onSignal = resolve));
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const why = await Promise.race([
    channel.closed.then((r) => shutdownReason ?? `channel ${r.code}`),
    stopSignal,
  ]);
  log.info({ why }, 'helper stopping');
  channel.close();
  opts.consent?.close();
  // Bounded: a helper whose service is gone must be gone within a second, even if a peer or an
  // encoder is slow to close. The caller exits the process when this returns.
  const teardownMs = opts.teardownMs ?? 700;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), teardownMs)));
  const closed = await Promise.race([host.close().then(() => 'closed' as const), late]);
  clearTimeout(timer);
  if (closed === 'late') log.warn({ teardownMs }, 'desktops still closing; exiting anyway');
  return 0;
}
