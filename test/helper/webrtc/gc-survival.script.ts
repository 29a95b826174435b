/**
 * Run by gc-survival.test.ts in a child `node --expose-gc`: connects the answerer to the test
 * offerer, drops every JS reference but the DesktopPeer, forces full garbage collections, and checks
 * that video and DataChannel messages still flow. Prints one JSON line with the counts.
 */
import { createDesktopPeer } from '../../../src/helper/webrtc/desktop-peer.js';
import { connectTestOfferer } from '../../fixtures/webrtc-offerer.js';
import { silentLogger } from '../../../src/log/logger.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const { viewer, peer } = await connectTestOfferer(async (offer) => {
  const made = await createDesktopPeer({ offer, iceServers: [], log: silentLogger });
  return { ...made, dispose: () => made.peer.close() };
});
let rtp = 0;
let inputs = 0;
viewer.onRtp(() => rtp++);
peer.onInput(() => inputs++);
const idr = Buffer.from([0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21, 0xa0]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
while (!peer.sendVideo(idr, 0)) await sleep(10);
for (let i = 0; i < 5; i++) {
  gc();
  await sleep(50);
}
const before = rtp;
let sent = 0;
for (let i = 1; i <= 20; i++) {
  gc();
  if (peer.sendVideo(idr, i * 33_333)) sent++;
  viewer.channels.input.sendMessage(JSON.stringify({ type: 'pointer_move', x: 0.5, y: 0.5 }));
  await sleep(20);
}
await sleep(200);
console.log(JSON.stringify({ sent, rtpAfterGc: rtp - before, inputs, state: peer.state }));
peer.close();
viewer.close();
process.exit(0);
