/**
 * The helper's one outgoing video track: H.264 on the viewer's mid and payload type. libdatachannel
 * only encrypts and sends here; packetization, pacing, NACK answers and sender reports are the
 * VideoSender's (rtp/video-sender.ts), which acts on what the viewer reports. When the viewer offers
 * the playout-delay header extension, every packet carries a zero playout delay: the viewer renders
 * each frame as soon as it is decoded instead of scheduling it through its jitter buffer. When it
 * offers RED and ULPFEC, the answer keeps them and the sender adds FEC on lossy paths.
 */
import { randomInt } from 'node:crypto';
import nodeDataChannel from 'node-datachannel';
import type { PeerConnection, Track } from 'node-datachannel';
import type { Timers } from '../../time/timers.js';
import { PLAYOUT_DELAY_URI, type H264OfferChoice } from './h264-offer.js';
import { VideoSender } from './rtp/video-sender.js';

export { H264_CLOCK_RATE } from './rtp/video-sender.js';

const { Video } = nodeDataChannel;

export interface H264Track {
  readonly track: Track;
  readonly ssrc: number;
  readonly sender: VideoSender;
  /** Everything native that must outlive the session (GC of a wrapper closes its object). */
  readonly natives: readonly object[];
}

export interface H264TrackOptions {
  cname: string;
  timers: Timers;
  onKeyframeNeeded(): void;
  onSent?(bytes: number, nowMs: number): void;
}

export function addH264Track(pc: PeerConnection, choice: H264OfferChoice, opts: H264TrackOptions): H264Track {
  const ssrc = randomInt(1, 0xffff_ffff);
  const media = new Video(choice.mid, 'SendOnly');
  media.addH264Codec(choice.payloadType, choice.fmtp || undefined);
  // An escape hatch for an operator (README): answer without RED and ULPFEC.
  const fec = process.env.PORTHOLE_FEC === 'off' ? undefined : choice.fec;
  if (fec) {
    media.addVideoCodec(fec.redPayloadType, 'red');
    media.addVideoCodec(fec.ulpfecPayloadType, 'ulpfec');
  }
  media.addSSRC(ssrc, opts.cname, 'porthole', 'desktop');
  if (choice.playoutDelayExtId !== undefined) {
    media.parseSdpLine(`a=extmap:${choice.playoutDelayExtId} ${PLAYOUT_DELAY_URI}`);
  }
  const track = pc.addTrack(media);
  const sender = new VideoSender({
    ssrc,
    payloadType: choice.payloadType,
    cname: opts.cname,
    playoutDelayExtId: choice.playoutDelayExtId,
    fec,
    transmit: (packet) => track.isOpen() && track.sendMessageBinary(packet),
    onKeyframeNeeded: opts.onKeyframeNeeded,
    ...(opts.onSent ? { onSent: opts.onSent } : {}),
    timers: opts.timers,
  });
  return { track, ssrc, sender, natives: [media, track] };
}
