/**
 * Turns the viewer's RTCP into what the sender acts on: retransmission requests (NACK), keyframe
 * requests, coalesced (Chromium repeats its PLI about every 200 ms until a keyframe arrives, and an
 * encoder restarted per PLI would never catch up), and the latest reception statistics for a bitrate
 * controller.
 */
import { ntpMiddle32, readRtcp, roundTripMs } from './rtcp.js';

/** pli/fir: the viewer asked; congestion: the helper's sender dropped frames and needs a fresh start. */
export type KeyframeReason = 'pli' | 'fir' | 'congestion';

export interface VideoReceiverStats {
  /** Fraction of packets lost in the last report interval, 0..1. */
  fractionLost: number;
  cumulativeLost: number;
  /** Extended highest sequence number received: with `cumulativeLost`, loss over any window. */
  highestSequence: number;
  jitterMs: number;
  /** From the report's LSR/DLSR; undefined until the viewer has seen a sender report. */
  rttMs: number | undefined;
  /** The viewer's latest REMB estimate in bit/s, if it sends REMB. */
  estimatedBitrate: number | undefined;
  /** performance.now() of the last report. */
  updatedAt: number;
}

export interface VideoFeedbackOptions {
  ssrc: number;
  clockRate: number;
  /** Shortest time between two keyframe requests passed on. */
  keyframeMinIntervalMs: number;
  onKeyframeRequest: (reason: KeyframeReason) => void;
  onStats: (stats: VideoReceiverStats) => void;
  /** The viewer lost these packets (generic NACK). */
  onNack?: (sequences: number[]) => void;
  now?: () => number;
}

export interface VideoFeedback {
  handle(packet: Uint8Array): void;
  readonly stats: VideoReceiverStats | undefined;
}

export function createVideoFeedback(opts: VideoFeedbackOptions): VideoFeedback {
  const now = opts.now ?? (() => performance.now());
  let lastKeyframeAt = -Infinity;
  let stats: VideoReceiverStats | undefined;
  let estimatedBitrate: number | undefined;
  const aboutUs = (ssrc: number): boolean => ssrc === opts.ssrc || ssrc === 0;

  return {
    get stats() {
      return stats;
    },
    handle(packet) {
      for (const ev of readRtcp(packet)) {
        if ((ev.kind === 'pli' || ev.kind === 'fir') && aboutUs(ev.mediaSsrc)) {
          const t = now();
          if (t - lastKeyframeAt < opts.keyframeMinIntervalMs) continue;
          lastKeyframeAt = t;
          opts.onKeyframeRequest(ev.kind);
        } else if (ev.kind === 'nack' && aboutUs(ev.mediaSsrc)) {
          opts.onNack?.(ev.sequences);
        } else if (ev.kind === 'remb' && (ev.ssrcs.length === 0 || ev.ssrcs.some(aboutUs))) {
          estimatedBitrate = ev.bitrate;
          if (stats) stats = { ...stats, estimatedBitrate };
        } else if (ev.kind === 'report' && ev.report.ssrc === opts.ssrc) {
          const r = ev.report;
          stats = {
            fractionLost: r.fractionLost,
            cumulativeLost: r.cumulativeLost,
            highestSequence: r.highestSequence,
            jitterMs: (r.jitter / opts.clockRate) * 1000,
            rttMs: roundTripMs(r, ntpMiddle32()),
            estimatedBitrate,
            updatedAt: now(),
          };
          opts.onStats(stats);
        }
      }
    },
  };
}
