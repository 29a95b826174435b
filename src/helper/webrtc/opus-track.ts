/**
 * The helper's outgoing audio track: Opus on the viewer's audio mid and payload type, one RTP packet
 * per 20 ms Opus packet (libdatachannel's plain RtpPacketizer; Opus packets never need fragmenting),
 * with sender reports so the viewer can relate it to the video. No NACK responder: a late audio packet
 * is useless to a jitter buffer of tens of milliseconds; Opus's in-band FEC and loss concealment cover.
 *
 * RTP timestamps are the capture clock at 48 kHz, from a random base (RFC 3550 §5.1): a silence that
 * was not sent shows as a jump in timestamps, as after DTX, not as a loss.
 */
import { randomInt } from 'node:crypto';
import nodeDataChannel from 'node-datachannel';
import type { PeerConnection, RtpPacketizationConfig, Track } from 'node-datachannel';
import { OPUS_ANSWER_FMTP, type OpusOfferChoice } from './opus-offer.js';

const { Audio, RtpPacketizationConfig: RtpConfig, RtpPacketizer, RtcpSrReporter } = nodeDataChannel;

export const OPUS_CLOCK_RATE = 48_000;

export interface OpusTrack {
  readonly track: Track;
  readonly ssrc: number;
  readonly natives: readonly object[];
  /** Sends one Opus packet stamped with the capture time of its first sample. False if not open. */
  send(packet: Buffer, timestampUs: number): boolean;
}

export function addOpusTrack(pc: PeerConnection, choice: OpusOfferChoice, cname: string): OpusTrack {
  const ssrc = randomInt(1, 0xffff_ffff);
  const media = new Audio(choice.mid, 'SendOnly');
  media.addOpusCodec(choice.payloadType, OPUS_ANSWER_FMTP);
  // Same cname and stream id as the video: the viewer treats them as one source for lip sync.
  media.addSSRC(ssrc, cname, 'porthole-audio', 'audio');
  const track = pc.addTrack(media);
  const rtpConfig: RtpPacketizationConfig = new RtpConfig(ssrc, cname, choice.payloadType, OPUS_CLOCK_RATE);
  const packetizer = new RtpPacketizer(rtpConfig);
  const srReporter = new RtcpSrReporter(rtpConfig);
  packetizer.addToChain(srReporter);
  track.setMediaHandler(packetizer);

  const base = randomInt(0, 0xffff_ffff);
  let firstUs: number | undefined;
  return {
    track,
    ssrc,
    natives: [media, track, rtpConfig, packetizer, srReporter],
    send(packet, timestampUs) {
      if (!track.isOpen()) return false;
      firstUs ??= timestampUs;
      const ticks = Math.round(((timestampUs - firstUs) * OPUS_CLOCK_RATE) / 1_000_000);
      rtpConfig.timestamp = (base + ticks) >>> 0;
      return track.sendMessageBinary(packet);
    },
  };
}

/**
 * Answers an audio section the helper will not send on (audio off by policy, or no Opus in it) as
 * inactive, so the viewer gets no track that never plays.
 */
export function addInactiveAudio(pc: PeerConnection, mid: string, payloadType: number | undefined): object[] {
  const media = new Audio(mid, 'Inactive');
  if (payloadType !== undefined) media.addOpusCodec(payloadType, OPUS_ANSWER_FMTP);
  const track = pc.addTrack(media);
  return [media, track];
}
