/**
 * The helper's H.264 RTP sender, in place of libdatachannel's packetizer chain, because the sender
 * must act on what the network says: its packets leave through a pacer (pacer.ts) whose queue is kept
 * short (overflow → frames are skipped until a fresh keyframe, which it asks for), a NACK is answered
 * within a budget (retransmit-history.ts), and it counts what actually left for the bitrate
 * controller. It also writes the sender reports the viewer's round-trip maths needs.
 *
 * Sequence numbers are given as packets leave the pacer, so frames dropped from its queue leave no
 * gap the viewer would NACK; the next frame it sees is the keyframe that follows them.
 */
import { randomInt } from 'node:crypto';
import { monotonicUs } from '../../capture/clock.js';
import type { TimerHandle, Timers } from '../../../time/timers.js';
import { NAL_IDR } from '../../encode/annexb.js';
import { h264Payloads, NAL_FU_A } from './h264-payloads.js';
import { Pacer, type PacedItem } from './pacer.js';
import { RetransmitHistory } from './retransmit-history.js';
import { playoutDelay, RTP_HEADER_BYTES, rtpPacket, rtpSequence, type RtpExtension } from './rtp-packet.js';
import { senderReport } from './sender-report.js';
import { FecPolicy } from './fec-policy.js';
import { redPacket, ulpfecPayload } from './ulpfec.js';

export const H264_CLOCK_RATE = 90_000;
/** RTP payload bytes per packet: with headers, SRTP and UDP/IP a packet stays under ~1260 bytes. */
export const MAX_RTP_PAYLOAD = 1180;
const SENDER_REPORT_INTERVAL_MS = 1000;
/** Least time between two keyframes asked for because NACKed packets were gone. */
const KEYFRAME_FOR_GONE_MS = 1000;
/** Until an access unit says its encoder's bitrate, pace as for this. */
const DEFAULT_BITRATE = 4_000_000;
/**
 * Media packets per FEC packet at most: a frame of n packets is cut into ceil(n / 8) groups of even
 * size, whose FEC packets follow the frame's last media packet. At 3 % loss a group of 8 + 1 loses two
 * or more packets (what one FEC packet cannot rebuild) 2.6 % of the time, against 21.6 % of 8 packets
 * losing any. Never inside a frame: Chromium's H.264 receiver assembles a frame only from packets
 * with consecutive sequence numbers, and a FEC packet's number is a hole in its packet buffer (the
 * first version put each group's FEC right after it: frames of more than 8 packets, every keyframe,
 * were never shown and the first picture took 34 s on the `bad` profile).
 */
export const FEC_GROUP_PACKETS = 8;

export interface VideoSenderOptions {
  ssrc: number;
  payloadType: number;
  cname: string;
  /** The viewer offered the playout-delay extension under this id: every packet asks for zero delay. */
  playoutDelayExtId?: number | undefined;
  /**
   * The viewer's payload types for RED and ULPFEC, when its offer had both: the sender then adds FEC
   * while packets are being lost (fec-policy.ts, ulpfec.ts).
   */
  fec?: { redPayloadType: number; ulpfecPayloadType: number } | undefined;
  /** Puts one RTP or RTCP packet on the track; false when the track is not open. */
  transmit(packet: Buffer): boolean;
  /** The sender dropped frames and skips to the next keyframe: make one. */
  onKeyframeNeeded(): void;
  /** RTP bytes as they leave, retransmissions included: what the path is offered. */
  onSent?(bytes: number, nowMs: number): void;
  timers: Timers;
  /** Wall clock for sender reports (ms since the epoch). */
  wallMs?: () => number;
  /** The capture clock, the one access units are stamped with (µs). */
  captureUs?: () => number;
}

export interface VideoSenderStats {
  framesSent: number;
  /** Frames that carried an IDR (the viewer's requests, new viewers, rate changes, recoveries). */
  keyframesSent: number;
  packetsSent: number;
  bytesSent: number;
  /** Frames not sent because the pacer's queue overflowed or a keyframe was awaited after that. */
  framesSkipped: number;
  overflows: number;
  nacked: number;
  resent: number;
  resentBytes: number;
  nackOverBudget: number;
  /** NACKed packets no longer kept or too old to resend. */
  nackGone: number;
  /** FEC packets sent (and their bytes, within `bytesSent`), and the frames sent with FEC. */
  fecPackets: number;
  fecBytes: number;
  fecFrames: number;
}

/** Where a paced packet sits in its frame, for FEC. */
interface PacketPlace {
  first: boolean;
  last: boolean;
  /** Its frame goes out with FEC: in RED, FEC packets after its last packet. */
  fec: boolean;
}

export class VideoSender {
  private readonly pacer: Pacer;
  private readonly history = new RetransmitHistory();
  private readonly extension: RtpExtension | undefined;
  private readonly base = randomInt(0, 0xffff_ffff);
  private sequence = randomInt(0, 0x10000);
  private firstUs: number | undefined;
  private bitrate = DEFAULT_BITRATE;
  private awaitingKeyframe = false;
  private keyframeForGoneAt = -Infinity;
  private reportTimer: TimerHandle | undefined;
  private closed = false;
  private readonly counts = {
    frames: 0,
    keyframes: 0,
    packets: 0,
    bytes: 0,
    skipped: 0,
    overflows: 0,
    fecPackets: 0,
    fecBytes: 0,
    fecFrames: 0,
  };
  private readonly fecPolicy: FecPolicy | undefined;
  /** The media packets of the frame being sent with FEC, as the receiver rebuilds them from RED. */
  private fecFrame: Buffer[] = [];

  constructor(private readonly opts: VideoSenderOptions) {
    this.fecPolicy = opts.fec ? new FecPolicy(opts.timers.now()) : undefined;
    this.extension =
      opts.playoutDelayExtId === undefined
        ? undefined
        : { id: opts.playoutDelayExtId, data: playoutDelay(0, 0) };
    this.pacer = new Pacer({
      timers: opts.timers,
      onOverflow: () => {
        this.counts.overflows += 1;
        this.awaitingKeyframe = true;
        opts.onKeyframeNeeded();
      },
    });
  }

  /**
   * Queues one Annex-B access unit stamped with its capture time; `bitrate` is what its encoder ran
   * at. False when it was skipped (waiting for a keyframe) or the sender is closed.
   */
  send(accessUnit: Uint8Array, timestampUs: number, bitrate?: number): boolean {
    if (this.closed) return false;
    if (bitrate !== undefined && bitrate > 0) {
      this.bitrate = bitrate;
      this.pacer.setBitrate(bitrate);
    }
    const payloads = h264Payloads(accessUnit, MAX_RTP_PAYLOAD);
    if (payloads.length === 0) return false;
    const keyframe = payloads.some(isIdr);
    if (this.awaitingKeyframe) {
      if (!keyframe) {
        this.counts.skipped += 1;
        return false;
      }
      this.awaitingKeyframe = false;
    }
    this.firstUs ??= timestampUs;
    const timestamp = this.rtpTime(timestampUs);
    const extBytes = this.extension ? 8 : 0;
    const fec = this.fecPolicy?.active(this.opts.timers.now()) ?? false;
    const n = payloads.length;
    const items: PacedItem[] = payloads.map((payload, i) => ({
      bytes: RTP_HEADER_BYTES + extBytes + payload.length + (fec ? 1 : 0),
      send: () => this.emit(payload, timestamp, { first: i === 0, last: i === n - 1, fec }),
    }));
    this.pacer.push(items);
    // An overflow drops what was queued, this frame with it.
    if (this.awaitingKeyframe) this.counts.skipped += 1;
    else {
      this.counts.frames += 1;
      if (keyframe) this.counts.keyframes += 1;
      if (fec) this.counts.fecFrames += 1;
    }
    return true;
  }

  /**
   * The viewer lost these packets (a generic NACK). When some are gone for good (after an outage, say)
   * the viewer cannot complete those frames: a keyframe is asked for at once instead of waiting for
   * its PLI, at most once per KEYFRAME_FOR_GONE_MS (it repeats its NACK until the keyframe arrives).
   */
  onNack(sequences: readonly number[], rttMs: number | undefined): void {
    if (this.closed) return;
    const now = this.opts.timers.now();
    this.fecPolicy?.onNacked(sequences.length);
    const { packets, gone } = this.history.take(sequences, now, this.bitrate, rttMs);
    if (gone > 0 && now - this.keyframeForGoneAt >= KEYFRAME_FOR_GONE_MS) {
      this.keyframeForGoneAt = now;
      this.opts.onKeyframeNeeded();
    }
    this.pacer.push(
      packets.map((p) => ({
        bytes: p.length,
        send: () => {
          if (this.opts.transmit(p)) this.opts.onSent?.(p.length, this.opts.timers.now());
        },
      })),
      true,
    );
  }

  get stats(): VideoSenderStats {
    const h = this.history.counters;
    return {
      framesSent: this.counts.frames,
      keyframesSent: this.counts.keyframes,
      packetsSent: this.counts.packets,
      bytesSent: this.counts.bytes,
      framesSkipped: this.counts.skipped,
      overflows: this.counts.overflows,
      nacked: h.asked,
      resent: h.resent,
      resentBytes: h.resentBytes,
      nackOverBudget: h.overBudget,
      nackGone: h.gone,
      fecPackets: this.counts.fecPackets,
      fecBytes: this.counts.fecBytes,
      fecFrames: this.counts.fecFrames,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pacer.close();
    this.history.clear();
    this.fecFrame = [];
    this.opts.timers.clearTimeout(this.reportTimer);
    this.reportTimer = undefined;
  }

  private emit(payload: Uint8Array, timestamp: number, place: PacketPlace): void {
    const media = rtpPacket(
      {
        payloadType: this.opts.payloadType,
        sequence: this.nextSequence(),
        timestamp,
        ssrc: this.opts.ssrc,
        marker: place.last,
      },
      payload,
      this.extension,
    );
    const fec = place.fec ? this.opts.fec : undefined;
    if (!fec) {
      this.put(media);
      return;
    }
    // A frame cut short by the pacer left its packets unprotected: each frame starts afresh.
    if (place.first) this.fecFrame = [];
    this.fecFrame.push(media);
    this.put(redPacket(media, fec.redPayloadType));
    if (!place.last) return;
    const frame = this.fecFrame;
    this.fecFrame = [];
    const groups = Math.ceil(frame.length / FEC_GROUP_PACKETS);
    const size = Math.ceil(frame.length / groups);
    const items: PacedItem[] = [];
    for (let at = 0; at < frame.length; at += size) {
      const protection = ulpfecPayload(frame.slice(at, at + size));
      const body = Buffer.alloc(1 + protection.length);
      body[0] = fec.ulpfecPayloadType & 0x7f; // RED header: F = 0, the ULPFEC payload type
      body.set(protection, 1);
      items.push({
        bytes: RTP_HEADER_BYTES + (this.extension ? 8 : 0) + body.length,
        send: () => this.emitFec(body, timestamp, fec.redPayloadType),
      });
    }
    // Paced like the media (a burst of them made the viewer's delay-based estimate fall), ahead of
    // the next frame: numbered as they leave, they come straight after this frame's last packet.
    this.pacer.push(items, true);
  }

  private emitFec(body: Buffer, timestamp: number, redPayloadType: number): void {
    const packet = rtpPacket(
      {
        payloadType: redPayloadType,
        sequence: this.nextSequence(),
        timestamp,
        ssrc: this.opts.ssrc,
        marker: false,
      },
      body,
      this.extension,
    );
    if (!this.put(packet)) return;
    this.counts.fecPackets += 1;
    this.counts.fecBytes += packet.length;
  }

  private nextSequence(): number {
    const seq = this.sequence;
    this.sequence = (this.sequence + 1) & 0xffff;
    return seq;
  }

  /** Keeps a packet for NACKs and sends it; false when the track was not open. */
  private put(packet: Buffer): boolean {
    const now = this.opts.timers.now();
    this.history.remember(rtpSequence(packet), packet, now);
    if (!this.opts.transmit(packet)) return false;
    this.counts.packets += 1;
    this.counts.bytes += packet.length;
    this.fecPolicy?.onSent(1);
    this.opts.onSent?.(packet.length, now);
    if (!this.reportTimer && !this.closed) this.report();
    return true;
  }

  /** Sends a sender report now and every second after, while packets flow. */
  private report(): void {
    const wallMs = (this.opts.wallMs ?? Date.now)();
    const nowUs = (this.opts.captureUs ?? monotonicUs)();
    this.opts.transmit(
      senderReport({
        ssrc: this.opts.ssrc,
        wallMs,
        rtpTimestamp: this.rtpTime(nowUs),
        packets: this.counts.packets,
        octets: this.counts.bytes,
        cname: this.opts.cname,
      }),
    );
    this.reportTimer = this.opts.timers.setTimeout(() => this.report(), SENDER_REPORT_INTERVAL_MS);
    this.reportTimer.unref();
  }

  private rtpTime(captureUs: number): number {
    const ticks = Math.round(((captureUs - (this.firstUs ?? captureUs)) * H264_CLOCK_RATE) / 1_000_000);
    return (this.base + ticks) >>> 0;
  }
}

function isIdr(payload: Uint8Array): boolean {
  const type = (payload[0] ?? 0) & 0x1f;
  return type === NAL_IDR || (type === NAL_FU_A && ((payload[1] ?? 0) & 0x1f) === NAL_IDR);
}
