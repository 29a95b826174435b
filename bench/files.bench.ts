/**
 * File transfer throughput (issue 17 §1): 100 MiB each way between headless Chromium (the viewer's
 * own files client, SHA-256 in JS) and the helper's FileTransfers (node-datachannel, SHA-256, written
 * to and read from disk in-process: the helper-as-user path), beside a raw DataChannel baseline over
 * the same two peers (same chunk size and buffer limits, no files, no hashing, no window), in the
 * same run, alternating.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import nodeDataChannel from 'node-datachannel';
import { chromium } from 'playwright-core';
import { FileTransfers } from '../src/helper/files/file-transfers.js';
import { LocalFileAccess } from '../src/helper/files/local-file-access.js';
import {
  FILE_BUFFER_HIGH,
  FILE_BUFFER_LOW,
  FILE_CHUNK_BYTES,
  FILE_CHUNK_HEADER,
} from '../src/protocol/files.js';
import { silentLogger } from '../src/log/logger.js';
import { machineLine } from './report.js';

const TOTAL = 100 * 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_FILES_ROUNDS ?? 3);

interface PageBench {
  bench: {
    offer(): Promise<string>;
    answer(sdp: string): Promise<void>;
    rawSend(total: number, chunk: number): Promise<number>;
    rawReceive(total: number): Promise<number>;
    upload(total: number): Promise<{ ms: number; state: string }>;
    download(path: string[]): Promise<{ ms: number; state: string }>;
  };
}

export async function run(): Promise<{ title: string; markdown: string }> {
  const script = (
    await build({
      entryPoints: [new URL('./files/page.ts', import.meta.url).pathname],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    })
  ).outputFiles[0]!.text;
  const home = mkdtempSync(join(tmpdir(), 'porthole-bench-files-'));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const natives: object[] = [];
  try {
    const page = await browser.newPage();
    await page.addScriptTag({ content: script });
    const offer = await page.evaluate(() => (window as unknown as PageBench).bench.offer());

    const pc = new nodeDataChannel.PeerConnection('bench', { iceServers: [], disableAutoNegotiation: true });
    natives.push(pc);
    let rawReceived = 0;
    let rawDc: nodeDataChannel.DataChannel | undefined;
    pc.onDataChannel((dc) => {
      natives.push(dc);
      if (dc.getLabel() === 'raw') {
        rawDc = dc;
        dc.setBufferedAmountLowThreshold(FILE_BUFFER_LOW);
        dc.onMessage((m) => {
          if (typeof m === 'string') return void sendRaw(dc);
          rawReceived += (m as Buffer).length;
          if (rawReceived >= TOTAL) {
            rawReceived = 0;
            dc.sendMessage('ok');
          }
        });
      } else if (dc.getLabel() === 'files') {
        dc.setBufferedAmountLowThreshold(FILE_BUFFER_LOW);
        const t = new FileTransfers({
          channel: {
            sendText: (s) => (dc.sendMessage(s), true),
            sendBinary: (b) => (dc.sendMessageBinary(b), true),
            bufferedAmount: () => dc.bufferedAmount(),
            onBufferedLow: (cb) => dc.onBufferedAmountLow(cb),
          },
          access: new LocalFileAccess({ home, maxUploadBytes: 2 * TOTAL }),
          maxUploadBytes: 2 * TOTAL,
          log: silentLogger,
        });
        dc.onMessage((m) => (typeof m === 'string' ? t.receiveText(m) : t.receiveBinary(m as Buffer)));
        t.hello();
      }
    });
    const sendRaw = (dc: nodeDataChannel.DataChannel): void => {
      const chunk = Buffer.alloc(FILE_CHUNK_BYTES + FILE_CHUNK_HEADER);
      let sent = 0;
      const pump = (): void => {
        while (sent < TOTAL && dc.bufferedAmount() <= FILE_BUFFER_HIGH) {
          dc.sendMessageBinary(chunk);
          sent += chunk.length;
        }
      };
      dc.onBufferedAmountLow(pump);
      pump();
    };
    pc.setRemoteDescription(offer, 'offer' as never);
    pc.setLocalDescription();
    await new Promise<void>((r) => {
      if (pc.gatheringState() === 'complete') r();
      pc.onGatheringStateChange((s) => s === 'complete' && r());
    });
    await page.evaluate(
      (sdp) => (window as unknown as PageBench).bench.answer(sdp),
      pc.localDescription()!.sdp,
    );
    void rawDc;

    const rows: { what: string; ms: number[] }[] = [
      { what: 'raw DataChannel, viewer → helper (baseline)', ms: [] },
      { what: 'upload, viewer → helper (files)', ms: [] },
      { what: 'raw DataChannel, helper → viewer (baseline)', ms: [] },
      { what: 'download, helper → viewer (files)', ms: [] },
    ];
    for (let i = 0; i < ROUNDS; i++) {
      rows[0]!.ms.push(
        await page.evaluate(([n, c]) => (window as unknown as PageBench).bench.rawSend(n, c), [
          TOTAL,
          FILE_CHUNK_BYTES + FILE_CHUNK_HEADER,
        ] as const),
      );
      const up = await page.evaluate((n) => (window as unknown as PageBench).bench.upload(n), TOTAL);
      if (!up.state.startsWith('complete')) throw new Error(`upload ended ${up.state}`);
      rows[1]!.ms.push(up.ms);
      rows[2]!.ms.push(
        await page.evaluate((n) => (window as unknown as PageBench).bench.rawReceive(n), TOTAL),
      );
      const name = i === 0 ? 'bench.bin' : `bench (${i}).bin`;
      const down = await page.evaluate(
        (p) => (window as unknown as PageBench).bench.download(p),
        ['Downloads', name],
      );
      if (!down.state.startsWith('complete')) throw new Error(`download ended ${down.state}`);
      rows[3]!.ms.push(down.ms);
    }
    pc.close();
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    const mibs = (ms: number) => TOTAL / 1024 / 1024 / (ms / 1000);
    const base = [median(rows[0]!.ms), median(rows[0]!.ms), median(rows[2]!.ms), median(rows[2]!.ms)];
    const lines = rows.map((r, i) => {
      const m = median(r.ms);
      const ratio = i % 2 === 1 ? `${Math.round((100 * base[i]!) / m)} %` : '—';
      return `| ${r.what} | ${mibs(m).toFixed(1)} | ${r.ms.map((x) => mibs(x).toFixed(1)).join(', ')} | ${ratio} |`;
    });
    const markdown = [
      `100 MiB per transfer, ${ROUNDS} rounds alternating baseline and files, median shown. Machine: ${machineLine()}.`,
      'Chromium (headless, Debian) ⇄ node-datachannel on loopback; the helper side writes and reads a temp dir',
      'in-process (the helper-as-user path; a root helper adds its files worker). Target: files ≥ 75 % of the',
      'baseline of the same direction.',
      '',
      '| transfer | MiB/s (median) | each round, MiB/s | of baseline |',
      '| --- | --- | --- | --- |',
      ...lines,
    ].join('\n');
    return { title: 'File transfer throughput (files channel vs a raw DataChannel)', markdown };
  } finally {
    await browser.close();
    natives.length = 0;
    // node-datachannel's threads would keep the bench process alive after its last peer closed.
    nodeDataChannel.cleanup();
    rmSync(home, { recursive: true, force: true });
  }
}
