/** The bench's page side: one RTCPeerConnection with a raw channel and the viewer's files client. */
import { FILE_BUFFER_HIGH, FILE_BUFFER_LOW } from '../../src/protocol/files.js';
import { ViewerFileTransfers, type Transfer } from '../../src/viewer/file-transfers.js';

let pc: RTCPeerConnection;
let raw: RTCDataChannel;
let files: ViewerFileTransfers;
const waiting = new Map<number, (t: Transfer) => void>();

async function offer(): Promise<string> {
  pc = new RTCPeerConnection();
  raw = pc.createDataChannel('raw', { ordered: true });
  raw.binaryType = 'arraybuffer';
  const fc = pc.createDataChannel('files', { ordered: true });
  files = new ViewerFileTransfers(fc, {
    onRoots: () => undefined,
    onChange: (t) => {
      if (['complete', 'failed', 'cancelled'].includes(t.state) && t.direction === 'upload')
        waiting.get(t.id)?.(t);
      if (t.direction === 'download' && (t.state === 'failed' || t.state === 'cancelled'))
        waiting.get(t.id)?.(t);
    },
    onDownloaded: (t) => waiting.get(t.id)?.(t),
    onNotice: (m) => console.warn(m),
  });
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((r) => {
    if (pc.iceGatheringState === 'complete') r();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
  });
  const opened = (c: RTCDataChannel) => new Promise((r) => c.addEventListener('open', r));
  (window as unknown as { __opened: Promise<unknown> }).__opened = Promise.all([opened(raw), opened(fc)]);
  return pc.localDescription!.sdp;
}

async function answer(sdp: string): Promise<void> {
  await pc.setRemoteDescription({ type: 'answer', sdp });
  await (window as unknown as { __opened: Promise<unknown> }).__opened;
}

/** Sends `total` bytes on the raw channel with the same chunk size and buffer limits; ms until acknowledged. */
async function rawSend(total: number, chunk: number): Promise<number> {
  const buf = new Uint8Array(chunk);
  raw.bufferedAmountLowThreshold = FILE_BUFFER_LOW;
  const t0 = performance.now();
  const acked = new Promise((r) => raw.addEventListener('message', r, { once: true }));
  for (let sent = 0; sent < total; sent += chunk) {
    while (raw.bufferedAmount > FILE_BUFFER_HIGH)
      await new Promise((r) => raw.addEventListener('bufferedamountlow', r, { once: true }));
    raw.send(buf);
  }
  await acked;
  return performance.now() - t0;
}

/** Receives `total` bytes the helper side sends on the raw channel; ms from the request to the last byte. */
async function rawReceive(total: number): Promise<number> {
  let got = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const on = (ev: MessageEvent) => {
      got += (ev.data as ArrayBuffer).byteLength;
      if (got >= total) {
        raw.removeEventListener('message', on);
        resolve();
      }
    };
    raw.addEventListener('message', on);
    raw.send('go');
  });
  return performance.now() - t0;
}

async function upload(total: number): Promise<{ ms: number; state: string }> {
  const mib = new Uint8Array(1024 * 1024);
  for (let o = 0; o < mib.length; o += 65536) crypto.getRandomValues(mib.subarray(o, o + 65536));
  const blob = new Blob(Array.from({ length: Math.ceil(total / mib.length) }, () => mib)).slice(0, total);
  const t0 = performance.now();
  const t = files.upload(blob, 'bench.bin');
  const end = await new Promise<Transfer>((r) => waiting.set(t.id, r));
  return { ms: performance.now() - t0, state: `${end.state} ${end.message ?? ''}` };
}

async function download(path: string[]): Promise<{ ms: number; state: string }> {
  const t0 = performance.now();
  const t = files.download(0, path);
  const end = await new Promise<Transfer>((r) => waiting.set(t.id, r));
  return { ms: performance.now() - t0, state: `${end.state} ${end.message ?? ''}` };
}

Object.assign(window, { bench: { offer, answer, rawSend, rawReceive, upload, download } });
