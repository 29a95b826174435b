/**
 * Reads what the viewer's offer says about audio: the mid of its receivable audio section and the
 * payload type it gave Opus (RFC 7587: always `opus/48000/2`, whatever the channels sent). No audio
 * section, or none with Opus, is not an error: the desktop simply has no sound.
 */
import { mediaSections } from './h264-offer.js';

export interface OpusOfferChoice {
  mid: string;
  payloadType: number;
}

/**
 * The fmtp of the helper's answer: stereo (the viewer's decoder outputs two channels only when the
 * sender says `stereo=1`), in-band FEC, 10 ms minimum packets as every browser offers.
 */
export const OPUS_ANSWER_FMTP = 'minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1';

/** The offer's audio sections the helper must answer, with the Opus payload type when there is one. */
export function audioSections(offer: string): { mid: string; receivable: boolean; payloadType?: number }[] {
  const out: { mid: string; receivable: boolean; payloadType?: number }[] = [];
  for (const section of mediaSections(offer)) {
    const mline = section[0] ?? '';
    if (!mline.startsWith('m=audio ')) continue;
    const mid = section.find((l) => l.startsWith('a=mid:'))?.slice('a=mid:'.length);
    if (!mid) continue;
    const receivable =
      !/^m=audio 0 /.test(mline) && !section.includes('a=sendonly') && !section.includes('a=inactive');
    let payloadType: number | undefined;
    for (const line of section) {
      const m = /^a=rtpmap:(\d{1,3}) opus\/48000\/2$/i.exec(line);
      const pt = m?.[1] === undefined ? NaN : Number(m[1]);
      if (pt >= 96 && pt <= 127) {
        payloadType = pt;
        break;
      }
    }
    out.push({ mid, receivable, ...(payloadType === undefined ? {} : { payloadType }) });
  }
  return out;
}

/** The audio section and Opus payload type to send on, or undefined when the offer takes no Opus. */
export function chooseOpus(offer: string): OpusOfferChoice | undefined {
  for (const s of audioSections(offer)) {
    if (s.receivable && s.payloadType !== undefined) return { mid: s.mid, payloadType: s.payloadType };
  }
  return undefined;
}
