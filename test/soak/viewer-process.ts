/**
 * A viewer in a process of its own, so that a check can make it vanish the way a killed browser does:
 * SIGKILL closes its sockets without a word on the wire (no SCTP abort, no DTLS close), and the helper
 * hears nothing until ICE consent fails ~30 s later. Run: `node --import tsx test/soak/viewer-process.ts`.
 *
 * Lines on stdout, one JSON object each: `{offer}` first; then, once the answer (a `{answer}` line
 * on stdin) has connected it, `{ready}`, a `{heartbeat: t}` for every heartbeat sent on `control`
 * (every second, as the browser viewer does), and `{held: t}` once it has pressed the key and button
 * named in argv (`KeyB middle`). It never releases them.
 */
import { createInterface } from 'node:readline';
import { createTestOfferer } from '../fixtures/webrtc-offerer.js';

const [code = 'KeyB', button = 'middle'] = process.argv.slice(2);
const say = (o: object): boolean => process.stdout.write(`${JSON.stringify(o)}\n`);

const viewer = await createTestOfferer();
say({ offer: viewer.offer });
const lines = createInterface({ input: process.stdin });
const { answer } = JSON.parse(await new Promise<string>((resolve) => lines.once('line', resolve))) as {
  answer: string;
};
viewer.setAnswer(answer);
await viewer.ready(15_000);
say({ ready: Date.now() });

const heartbeat = (): void => {
  viewer.channels.control.sendMessage(JSON.stringify({ type: 'heartbeat' }));
  say({ heartbeat: Date.now() });
};
heartbeat();
setInterval(heartbeat, 1000);
viewer.channels.input.sendMessage(JSON.stringify({ type: 'key', code, down: true }));
viewer.channels.input.sendMessage(JSON.stringify({ type: 'pointer_button', button, down: true }));
say({ held: Date.now() });
