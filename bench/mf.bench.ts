/**
 * The Media Foundation encoder's figures: the CPU BGRA → NV12 conversion it runs before every frame
 * (everywhere), and, on Windows only, each H.264 encoder MFT's ms/frame with the checks of
 * mf-encode-check.ts (scripts/windows-vm-mf.ts prints the same table on a VM).
 */
import os from 'node:os';
import { SyntheticPattern } from '../src/helper/capture/synthetic-pattern.js';
import { bgraToNv12 } from '../src/helper/encode/nv12.js';
import { machineLine, percentile } from './report.js';

const SIZES = [
  { w: 1280, h: 720, bitrate: 4_000_000 },
  { w: 1920, h: 1080, bitrate: 8_000_000 },
];
const FRAMES = 300;

function conversion(w: number, h: number): { median: number; p95: number } {
  const pattern = new SyntheticPattern(w, h, 'full');
  const data = new Uint8Array(w * h * 4);
  const out = new Uint8Array(w * h * 1.5);
  const ms: number[] = [];
  for (let n = 0; n < FRAMES; n++) {
    pattern.draw(data, w * 4, n);
    const t0 = performance.now();
    bgraToNv12(data, w, h, w * 4, out);
    ms.push(performance.now() - t0);
  }
  const sorted = ms.slice(10).sort((a, b) => a - b); // the first frames warm the JIT up
  return { median: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

export async function run(): Promise<{ title: string; markdown: string }> {
  const lines = [
    // This machine is shared: the load says how far the figures are from an idle one.
    `Machine: ${machineLine()}; load average ${os.loadavg()[0]!.toFixed(1)} when run.`,
    '',
    `BGRA → NV12 on the CPU (src/helper/encode/nv12.ts, the MF encoder's input path), ${FRAMES} frames of a scrolling texture:`,
    '',
    '| size | median ms | p95 ms |',
    '| --- | --- | --- |',
  ];
  for (const { w, h } of SIZES) {
    const r = conversion(w, h);
    lines.push(`| ${w}×${h} | ${r.median.toFixed(2)} | ${r.p95.toFixed(2)} |`);
  }
  lines.push('');
  if (process.platform === 'win32') {
    const [{ koffiMfApi }, { checkEachMft, mftTable }] = await Promise.all([
      import('../src/helper/encode/win32-mf-api.js'),
      import('./mf-encode-check.js'),
    ]);
    for (const { w, h, bitrate } of SIZES) {
      lines.push(
        mftTable(await checkEachMft(koffiMfApi, { width: w, height: h, frames: FRAMES, bitrate })),
        '',
      );
    }
  } else {
    lines.push(
      'Media Foundation encoders: not run here (Windows only; under Wine 8 there is no H.264 encoder MFT). ' +
        'scripts/windows-vm-check.ps1 prints their table on a real Windows machine.',
    );
  }
  return {
    title: 'Media Foundation encoder (CPU NV12 conversion; MFTs on Windows)',
    markdown: lines.join('\n'),
  };
}
