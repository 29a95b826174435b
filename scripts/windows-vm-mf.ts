/**
 * The Media Foundation step of scripts/windows-vm-check.ps1, on a real Windows: encodes 300 frames at
 * 1920×1080 (and 1280×720) with each H.264 encoder MFT the machine has — hardware ones (Intel Quick
 * Sync, NVIDIA, AMD) and Microsoft's software MFT — and decodes the result with Windows' own H.264
 * decoder MFT to check the picture (bench/mf-encode-check.ts). Prints one JSON line per MFT and size
 * (`{step: 'mf', result, detail, row}`), then the markdown table for design/BENCHMARKS.md.
 *
 * Run: `node node_modules/tsx/dist/cli.mjs scripts/windows-vm-mf.ts [frames]` (default 300).
 */
import { checkEachMft, mftTable, type MftRow } from '../bench/mf-encode-check.js';
import { koffiMfApi } from '../src/helper/encode/win32-mf-api.js';

const frames = Number(process.argv[2] ?? 300);
const all: MftRow[] = [];
for (const size of [
  { width: 1920, height: 1080, bitrate: 8_000_000 },
  { width: 1280, height: 720, bitrate: 4_000_000 },
]) {
  const rows = await checkEachMft(koffiMfApi, { ...size, frames });
  if (rows.length === 0) {
    console.log(
      JSON.stringify({
        step: 'mf',
        result: 'FAIL',
        detail: `no H.264 encoder MFT at ${size.width}×${size.height}`,
      }),
    );
  }
  for (const row of rows) {
    const problems = [
      row.error,
      row.frames !== frames && `${row.frames} of ${frames} frames`,
      row.keyframeOnDemand === false && 'the keyframe asked for did not come on that frame',
      row.decoded !== undefined && row.decoded < frames - 1 && `Windows decoded ${row.decoded} frames`,
      row.psnrMin !== undefined && row.psnrMin < 30 && `PSNR ${row.psnrMin} dB < 30`,
    ].filter(Boolean);
    const detail = `${row.mft} ${row.size}: ${row.msMedian} ms/frame (p95 ${row.msP95}), NV12 ${row.nv12Ms} ms, ${row.idrs} IDRs, ${row.sessions} MFT(s), SPS ${row.sps}, PSNR ${row.psnrMin}/${row.psnrMean} dB${row.refused ? `, refused ${row.refused}` : ''}`;
    console.log(
      JSON.stringify({
        step: 'mf',
        result: problems.length ? 'FAIL' : 'PASS',
        detail: problems.length ? `${problems.join('; ')} — ${detail}` : detail,
        row,
      }),
    );
  }
  all.push(...rows);
}
console.log('');
console.log(mftTable(all));
