/**
 * Reads what the viewer's offer says about H.264: which m=video section to answer on (its mid) and
 * which payload type to send with. The answer must reuse the viewer's own payload number, and only
 * packetization-mode=1 will do: libdatachannel fragments NAL units larger than the MTU (FU-A), which
 * mode 0 forbids.
 */
import { PortholeError } from '../../errors/porthole-error.js';

export interface H264OfferChoice {
  /** The mid of the offer's video section the helper answers with its sendonly track. */
  mid: string;
  payloadType: number;
  /** The fmtp parameters the viewer gave this payload type, echoed in the answer. */
  fmtp: string;
  profileLevelId: string;
  /**
   * The id the viewer gave the playout-delay RTP header extension in this section, when it offered it.
   * A sender that puts min = max = 0 in it asks the receiver to show each frame as soon as it is
   * decoded, with no smoothing buffer: what a remote desktop wants (WebRTC's "low-latency" rendering).
   */
  playoutDelayExtId?: number;
  /**
   * The section's payload types for RED and ULPFEC, when it offers both (Chromium does): the answer
   * keeps them and the sender adds forward error correction on lossy paths (rtp/ulpfec.ts).
   */
  fec?: { redPayloadType: number; ulpfecPayloadType: number };
}

export const PLAYOUT_DELAY_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';

/** The viewer's offer has nothing porthole can answer (no H.264 it can send): the caller's mistake. */
export class OfferError extends PortholeError<'bad_request'> {
  override name = 'OfferError';
  constructor(message: string) {
    super('bad_request', message);
  }
}

interface H264Format {
  payloadType: number;
  params: Map<string, string>;
  fmtp: string;
}

/** Splits SDP into its sections: the session part, then one entry per m= line. */
export function mediaSections(sdp: string): string[][] {
  const sections: string[][] = [];
  let current: string[] | undefined;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (line.startsWith('m=')) {
      current = [line];
      sections.push(current);
    } else if (current && line) {
      current.push(line);
    }
  }
  return sections;
}

function parseFmtp(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return params;
}

function h264Formats(section: string[]): H264Format[] {
  const h264 = new Set<number>();
  const fmtp = new Map<number, string>();
  for (const line of section) {
    const rtpmap = /^a=rtpmap:(\d{1,3}) H264\/90000$/i.exec(line);
    if (rtpmap?.[1]) h264.add(Number(rtpmap[1]));
    const f = /^a=fmtp:(\d{1,3}) (.*)$/.exec(line);
    if (f?.[1] && f[2] !== undefined) fmtp.set(Number(f[1]), f[2]);
  }
  return [...h264]
    .filter((pt) => pt >= 96 && pt <= 127)
    .map((pt) => ({ payloadType: pt, fmtp: fmtp.get(pt) ?? '', params: parseFmtp(fmtp.get(pt) ?? '') }));
}

/**
 * Lower is better. The encoder produces constrained baseline, which every H.264 profile's decoder can
 * take, so the order only prefers what matches the stream most exactly.
 */
function rank(profileLevelId: string): number {
  const id = profileLevelId.toLowerCase();
  if (id === '42e01f') return 0;
  if (id.startsWith('42e0')) return 1;
  if (id.startsWith('42')) return 2;
  if (id.startsWith('4d')) return 3;
  if (id.startsWith('64')) return 4;
  return 5;
}

/** Picks the video section and H.264 payload type to answer with; throws OfferError if there is none. */
export function chooseH264(offer: string): H264OfferChoice {
  let sawVideo = false;
  for (const section of mediaSections(offer)) {
    const mline = section[0] ?? '';
    if (!mline.startsWith('m=video ')) continue;
    sawVideo = true;
    if (/^m=video 0 /.test(mline)) continue;
    const mid = section.find((l) => l.startsWith('a=mid:'))?.slice('a=mid:'.length);
    if (!mid) continue;
    if (section.includes('a=sendonly') || section.includes('a=inactive')) continue;
    const candidates = h264Formats(section)
      .filter((f) => f.params.get('packetization-mode') === '1')
      .map((f) => ({ ...f, profileLevelId: f.params.get('profile-level-id') ?? '42001f' }))
      .filter((f) => /^[0-9a-f]{6}$/i.test(f.profileLevelId));
    candidates.sort((a, b) => rank(a.profileLevelId) - rank(b.profileLevelId));
    const best = candidates[0];
    if (best) {
      const choice: H264OfferChoice = {
        mid,
        payloadType: best.payloadType,
        fmtp: best.fmtp,
        profileLevelId: best.profileLevelId,
      };
      const ext = extensionId(section, PLAYOUT_DELAY_URI);
      if (ext !== undefined) choice.playoutDelayExtId = ext;
      const red = payloadTypeOf(section, 'red');
      const ulpfec = payloadTypeOf(section, 'ulpfec');
      if (red !== undefined && ulpfec !== undefined)
        choice.fec = { redPayloadType: red, ulpfecPayloadType: ulpfec };
      return choice;
    }
  }
  throw new OfferError(
    sawVideo
      ? 'the offer has no receivable video section with H.264 packetization-mode=1'
      : 'the offer has no video section',
  );
}

/** The dynamic payload type the section maps `<encoding>/90000` to, if it does. */
function payloadTypeOf(section: string[], encoding: string): number | undefined {
  const mline = new Set((section[0] ?? '').split(' ').slice(3));
  for (const line of section) {
    const m = /^a=rtpmap:(\d{1,3}) ([\w-]+)\/90000$/i.exec(line);
    if (m?.[2]?.toLowerCase() !== encoding || !mline.has(m[1]!)) continue;
    const pt = Number(m[1]);
    if (pt >= 96 && pt <= 127) return pt;
  }
  return undefined;
}

/** The id of a one-byte RTP header extension (1–14) the section maps `uri` to, if it does. */
function extensionId(section: string[], uri: string): number | undefined {
  for (const line of section) {
    const m = /^a=extmap:(\d{1,2})(?:\/\w+)? (\S+)/.exec(line);
    if (m?.[2] === uri) {
      const id = Number(m[1]);
      return id >= 1 && id <= 14 ? id : undefined;
    }
  }
  return undefined;
}
