/**
 * Encodes frames with each Media Foundation H.264 encoder MFT the machine has, one MFT at a time, and
 * checks the result with Windows' own H.264 decoder MFT: ms per frame, a keyframe on demand landing on
 * the very frame asked, a bitrate change without a restart, and the decoded picture against the input
 * (PSNR of the luma plane). Shared by `npm run bench mf` (on Windows) and scripts/windows-vm-mf.ts (the
 * VM check); Windows only (koffi and Media Foundation), so nothing here runs in the Linux suites.
 */
import { SyntheticPattern } from '../src/helper/capture/synthetic-pattern.js';
import type { EncodedFrame } from '../src/helper/encode/encoder.js';
import type { MfActivation, MfApi, MfTransformKind } from '../src/helper/encode/mf-api.js';
import { decodeWithMf, psnr } from '../src/helper/encode/mf-decode.js';
import { MfEncoder } from '../src/helper/encode/mf-encoder.js';
import { bgraToNv12 } from '../src/helper/encode/nv12.js';
import { nalType, splitAnnexB } from '../src/helper/encode/annexb.js';
import { percentile } from './report.js';

export interface MftRow {
  mft: string;
  hardware: boolean;
  async?: boolean;
  size: string;
  frames: number;
  /** encode() call → its access unit, ms: median and p95 (NV12 conversion included). */
  msMedian?: number;
  msP95?: number;
  /** The CPU BGRA → NV12 conversion alone, ms per frame (median). */
  nv12Ms?: number;
  kbitPerFrame?: number;
  /** The frame asked to be a keyframe (requestKeyframe before it) came out as an IDR. */
  keyframeOnDemand?: boolean;
  /** IDRs in the stream (1 + the one asked for, when the GOP is really off). */
  idrs?: number;
  /** MFTs started: 1 when the bitrate change went to the running MFT. */
  sessions?: number;
  /** ICodecAPI settings the MFT refused. */
  refused?: string;
  /** profile_idc and the constraint flags of the SPS (66/0xc0: constrained baseline). */
  sps?: string;
  decoded?: number;
  psnrMin?: number;
  psnrMean?: number;
  error?: string;
}

/** An MfApi that offers only the `index`-th MFT of one kind (the others are released at once). */
function onlyOne(api: MfApi, kind: MfTransformKind, index: number): MfApi {
  return {
    enumerate(k) {
      if (k !== kind) return [];
      const all = api.enumerate(k);
      const keep: MfActivation[] = [];
      all.forEach((a, i) => (i === index ? keep.push(a) : a.release()));
      return keep;
    },
  };
}

export async function checkEachMft(
  api: MfApi,
  opts: { width: number; height: number; frames: number; bitrate: number; fps?: number },
): Promise<MftRow[]> {
  const { width, height, frames, bitrate } = opts;
  const fps = opts.fps ?? 30;
  const size = `${width}×${height}`;
  const pattern = new SyntheticPattern(width, height, 'box');
  const rows: MftRow[] = [];
  for (const kind of ['hardware-encoder', 'software-encoder'] as const) {
    const found = api.enumerate(kind);
    const names = found.map((a) => a.name);
    for (const a of found) a.release();
    for (const [index, mft] of names.entries()) {
      const hardware = kind === 'hardware-encoder';
      const row: MftRow = { mft, hardware, size, frames: 0 };
      rows.push(row);
      let encoder: MfEncoder | undefined;
      try {
        encoder = MfEncoder.create(
          onlyOne(api, kind, index),
          { width, height, fps, bitrate },
          {
            mfClass: hardware ? 'hardware' : 'software',
          },
        );
        row.async = encoder.info.async;
        const data = new Uint8Array(width * height * 4);
        const nv12 = new Uint8Array(width * height * 1.5);
        const ms: number[] = [];
        const conv: number[] = [];
        const out: EncodedFrame[] = [];
        const keyAt = Math.floor(frames / 2);
        for (let n = 0; n < frames; n++) {
          pattern.draw(data, width * 4, n);
          const c0 = performance.now();
          bgraToNv12(data, width, height, width * 4, nv12);
          conv.push(performance.now() - c0);
          if (n === keyAt) encoder.requestKeyframe();
          if (n === keyAt + 30) encoder.setBitrate(Math.round(bitrate / 2));
          const t0 = performance.now();
          // The helper's pipeline waits for each frame before it sends the next: an MFT that holds a
          // frame until more input comes would stall it, so that is a failure here, not a hang.
          const encoded = encoder.encode({
            data,
            width,
            height,
            stride: width * 4,
            format: 'BGRA',
            timestampUs: Math.round((n * 1e6) / fps),
          });
          let timer: NodeJS.Timeout | undefined;
          const held = new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`the MFT held frame ${n} for 5 s without more input`)),
              5000,
            );
          });
          try {
            out.push(await Promise.race([encoded, held]));
          } finally {
            clearTimeout(timer);
          }
          ms.push(performance.now() - t0);
        }
        const sorted = [...ms].sort((x, y) => x - y);
        row.frames = out.length;
        row.msMedian = round(percentile(sorted, 50));
        row.msP95 = round(percentile(sorted, 95));
        row.nv12Ms = round(
          percentile(
            [...conv].sort((x, y) => x - y),
            50,
          ),
        );
        row.kbitPerFrame = round(out.reduce((s, f) => s + f.data.length, 0) / out.length / 125);
        row.keyframeOnDemand = out[keyAt]?.keyframe === true;
        row.idrs = out.filter((f) => f.keyframe).length;
        row.sessions = encoder.sessionsStarted;
        row.refused = MfEncoder.describeRefusals(encoder.info) || undefined;
        const sps = splitAnnexB(out[0]!.data).find((nal) => nalType(nal) === 7);
        row.sps = sps ? `${sps[1]}/0x${(sps[2] ?? 0).toString(16)}` : 'missing';
        await encoder.close();
        encoder = undefined;
        // Each picture against the luma that went in (the frame drawn again: 300 kept would be ~600 MB).
        const scores: number[] = [];
        row.decoded = decodeWithMf(
          api,
          out.map((f) => f.data),
          width,
          height,
          (p, i) => {
            pattern.draw(data, width * 4, i);
            bgraToNv12(data, width, height, width * 4, nv12);
            scores.push(psnr(p.nv12.subarray(0, width * height), nv12.subarray(0, width * height)));
          },
          fps,
        );
        row.psnrMin = round(Math.min(...scores));
        row.psnrMean = round(scores.reduce((s, x) => s + Math.min(x, 99), 0) / scores.length);
      } catch (err) {
        row.error = err instanceof Error ? err.message : String(err);
      } finally {
        await encoder?.close();
      }
    }
  }
  return rows;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export function mftTable(rows: readonly MftRow[]): string {
  const head =
    '| MFT | hw | async | size | frames | ms/frame median | p95 | NV12 ms | kbit/frame | key on demand | IDRs | MFTs started | SPS profile/flags | decoded | PSNR min / mean (dB) | refused |\n' +
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |';
  const lines = rows.map((r) =>
    r.error
      ? `| ${r.mft} | ${r.hardware ? 'yes' : 'no'} | | ${r.size} | failed: ${r.error} | | | | | | | | | | | |`
      : `| ${r.mft} | ${r.hardware ? 'yes' : 'no'} | ${r.async ? 'yes' : 'no'} | ${r.size} | ${r.frames} | ${r.msMedian} | ${r.msP95} | ${r.nv12Ms} | ${r.kbitPerFrame} | ${r.keyframeOnDemand ? 'yes' : 'NO'} | ${r.idrs} | ${r.sessions} | ${r.sps} | ${r.decoded} | ${r.psnrMin} / ${r.psnrMean} | ${r.refused ?? ''} |`,
  );
  return [head, ...lines].join('\n');
}
