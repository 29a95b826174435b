/**
 * The helper's one outgoing video track: H.264 on the viewer's mid and payload type, packetized by
 * libdatachannel (FU-A for large NAL units), with sender reports for the viewer's lip-sync/RTT maths
 * and a NACK responder that resends lost packets from a short history. When the viewer offers the
 * playout-delay header extension, every packet carries a zero playout delay.
 */
import { randomInt } from 'node:crypto';
import nodeDataChannel from 'node-datachannel';
import type { PeerConnection, RtpPacketizationConfig, Track } from 'node-datachannel';
import { PLAYOUT_DELAY_URI, type H264OfferChoice } from './h264-offer.js';

const {
  Video,
  RtpPacketizationConfig: RtpConfig,
  H264RtpPacketizer,
  RtcpSrReporter,
  RtcpNackResponder,
} = nodeDataChannel;

export const H264_CLOCK_RATE = 90_000;
/** Packets kept for retransmission on NACK: ~1.5 s of a busy 1080p stream. */
const NACK_HISTORY = 1024;

export interface H264Track {
  readonly track: Track;
  readonly ssrc: number;
  /** Everything native that must outlive the session (GC of a wrapper closes its object). */
  readonly natives: readonly object[];
  /** Sends one Annex-B access unit stamped with the capture time. False if the track is not open. */
  send(accessUnit: Buffer, timestampUs: number): boolean;
}

export function addH264Track(pc: PeerConnection, choice: H264OfferChoice, cname: string): H264Track {
  const ssrc = randomInt(1, 0xffff_ffff);
  const media = new Video(choice.mid, 'SendOnly');
  media.addH264Codec(choice.payloadType, choice.fmtp || undefined);
  media.addSSRC(ssrc, cname, 'porthole', 'desktop');
  if (choice.playoutDelayExtId !== undefined) {
    media.parseSdpLine(`a=extmap:${choice.playoutDelayExtId} ${PLAYOUT_DELAY_URI}`);
  }
  const track = pc.addTrack(media);

  const rtpConfig: RtpPacketizationConfig = new RtpConfig(ssrc, cname, choice.payloadType, H264_CLOCK_RATE);
  if (choice.playoutDelayExtId !== undefined) {
    // Zero minimum and maximum delay: the viewer renders each frame as soon as it is decoded instead
    // of scheduling it through its jitter buffer (~10 ms of render delay and more under jitter).
    rtpConfig.playoutDelayId = choice.playoutDelayExtId;
    rtpConfig.playoutDelayMin = 0;
    rtpConfig.playoutDelayMax = 0;
  }
  const packetizer = new H264RtpPacketizer('StartSequence', rtpConfig);
  const srReporter = new RtcpSrReporter(rtpConfig);
  const nackResponder = new RtcpNackResponder(NACK_HISTORY);
  packetizer.addToChain(srReporter);
  packetizer.addToChain(nackResponder);
  track.setMediaHandler(packetizer);

  // RTP timestamps start at a random offset (RFC 3550 §5.1) and follow the capture clock.
  const base = randomInt(0, 0xffff_ffff);
  let firstUs: number | undefined;

  return {
    track,
    ssrc,
    natives: [media, track, rtpConfig, packetizer, srReporter, nackResponder],
    send(accessUnit, timestampUs) {
      if (!track.isOpen()) return false;
      firstUs ??= timestampUs;
      const ticks = Math.round(((timestampUs - firstUs) * H264_CLOCK_RATE) / 1_000_000);
      rtpConfig.timestamp = (base + ticks) >>> 0;
      return track.sendMessageBinary(accessUnit);
    },
  };
}
