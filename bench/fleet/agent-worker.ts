/**
 * A process holding many simulated agents (`npm run bench:fleet` forks one or two, so the API, not the
 * simulator, is what the machine measures). Driven over the IPC channel (worker-messages.ts): it opens
 * the links at a paced rate, then reports every change of which API instance holds an agent, batched
 * every 100 ms with the time each change happened.
 */
import { SimAgentLink } from './sim-agent-link.js';
import type { ToWorker, FromWorker, StateChange } from './worker-messages.js';

const links: SimAgentLink[] = [];
let pending: StateChange[] = [];

function send(msg: FromWorker): void {
  process.send?.(msg);
}

const flush = setInterval(() => {
  if (pending.length === 0) return;
  send({ type: 'states', changes: pending });
  pending = [];
}, 100);

async function start(msg: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const gapMs = 1000 / Math.max(1, msg.connectPerSecond);
  const began = performance.now();
  for (let i = 0; i < msg.agents.length; i++) {
    const a = msg.agents[i];
    if (!a) continue;
    const link = new SimAgentLink({
      deviceId: a.deviceId,
      token: a.token,
      urls: msg.urls,
      firstIndex: a.firstIndex,
      onState: (instance) => pending.push([a.deviceId, instance, Date.now()]),
    });
    links.push(link);
    link.start();
    // Paced: the link opens at i · gap from the start, whatever the timers' granularity.
    const wait = began + (i + 1) * gapMs - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  }
  send({ type: 'started', agents: links.length });
}

process.on('message', (raw) => {
  const msg = raw as ToWorker;
  if (msg.type === 'start') void start(msg);
  if (msg.type === 'stop') {
    for (const l of links) l.stop();
    clearInterval(flush);
    send({ type: 'states', changes: pending });
    process.disconnect?.();
  }
});
// The bench died without saying stop: do not linger with thousands of sockets.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid });
