import { describe, expect, it } from 'vitest';
import { chooseH264, OfferError } from '../../../src/helper/webrtc/h264-offer.js';

/** The shape of a Chromium viewer offer: audio-less, one recvonly video section, then data. */
function offer(videoLines: string[], mline = 'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 106 107'): string {
  return [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    mline,
    'c=IN IP4 0.0.0.0',
    'a=mid:0',
    'a=recvonly',
    ...videoLines,
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'a=mid:1',
    '',
  ].join('\r\n');
}

const chromiumFormats = [
  'a=rtpmap:96 VP8/90000',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102',
  'a=rtpmap:106 H264/90000',
  'a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:107 H264/90000',
  'a=fmtp:107 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f',
];

describe('chooseH264', () => {
  it('picks the packetization-mode=1 constrained-baseline payload type and the section mid', () => {
    expect(chooseH264(offer(chromiumFormats))).toEqual({
      mid: '0',
      payloadType: 106,
      fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
      profileLevelId: '42e01f',
    });
  });

  it('reads the id the offer gave the playout-delay header extension', () => {
    const lines = [
      'a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
      'a=extmap:12/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
      ...chromiumFormats,
    ];
    expect(chooseH264(offer(lines)).playoutDelayExtId).toBe(12);
    expect(chooseH264(offer(chromiumFormats)).playoutDelayExtId).toBeUndefined();
    // Two-byte header ids (15–255) are not what the packetizer writes: ignored.
    const twoByte = [
      'a=extmap:20 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
      ...chromiumFormats,
    ];
    expect(chooseH264(offer(twoByte)).playoutDelayExtId).toBeUndefined();
  });

  it('reads the RED and ULPFEC payload types when the section offers both', () => {
    const withFec = [...chromiumFormats, 'a=rtpmap:116 red/90000', 'a=rtpmap:117 ulpfec/90000'];
    const mline = 'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 106 107 116 117';
    expect(chooseH264(offer(withFec, mline)).fec).toEqual({ redPayloadType: 116, ulpfecPayloadType: 117 });
    // One without the other is no FEC; nor are payload types the m= line does not list.
    expect(chooseH264(offer(withFec.slice(0, -1), mline)).fec).toBeUndefined();
    expect(chooseH264(offer(withFec)).fec).toBeUndefined();
  });

  it('falls back to another mode-1 profile when 42e01f is not offered', () => {
    const formats = chromiumFormats.filter((l) => !l.includes(':106 '));
    expect(chooseH264(offer(formats)).payloadType).toBe(107);
  });

  it('accepts LF line endings', () => {
    expect(chooseH264(offer(chromiumFormats).replace(/\r\n/g, '\n')).payloadType).toBe(106);
  });

  it('refuses an offer whose H.264 is mode 0 only', () => {
    const formats = chromiumFormats.filter((l) => !/:10[67] /.test(l));
    expect(() => chooseH264(offer(formats))).toThrow(OfferError);
  });

  it('refuses an offer with no video section', () => {
    const sdp = [
      'v=0',
      'o=- 1 2 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'm=application 9 UDP/DTLS/SCTP x',
      'a=mid:1',
    ];
    expect(() => chooseH264(sdp.join('\r\n'))).toThrow(/no video section/);
  });

  it('skips a rejected (port 0) or sendonly video section', () => {
    expect(() => chooseH264(offer(chromiumFormats, 'm=video 0 UDP/TLS/RTP/SAVPF 106'))).toThrow(OfferError);
    const sendonly = offer(chromiumFormats).replace('a=recvonly', 'a=sendonly');
    expect(() => chooseH264(sendonly)).toThrow(OfferError);
  });

  it('ignores payload numbers outside the dynamic range and malformed profile ids', () => {
    const formats = [
      'a=rtpmap:35 H264/90000',
      'a=fmtp:35 packetization-mode=1;profile-level-id=42e01f',
      'a=rtpmap:120 H264/90000',
      'a=fmtp:120 packetization-mode=1;profile-level-id=zzzzzz',
    ];
    expect(() => chooseH264(offer(formats))).toThrow(OfferError);
  });
});
