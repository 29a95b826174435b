/** fast-check generators of valid protocol messages, shared by the protocol and IPC tests. */
import fc from 'fast-check';
import type { DisplayInfo, IceServer } from '../../src/protocol/common.js';

export const desktopId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/);
export const osSession = fc.integer({ min: 0, max: 0x7fff_ffff });
export const sdpText = fc
  .array(fc.stringMatching(/^[a-z]=[ -~]{0,80}$/), { maxLength: 40 })
  .map((lines) => ['v=0', ...lines].join('\r\n') + '\r\n');
/** SDP a viewer could offer: any lines, then a video section offering H.264. */
export const offerText = sdpText.map(
  (s) => `${s}m=video 9 UDP/TLS/RTP/SAVPF 106\r\na=rtpmap:106 H264/90000\r\n`,
);

export const display: fc.Arbitrary<DisplayInfo> = fc.record({
  index: fc.integer({ min: 0, max: 15 }),
  name: fc.string({ maxLength: 32 }),
  x: fc.integer({ min: -65_536, max: 65_536 }),
  y: fc.integer({ min: -65_536, max: 65_536 }),
  width: fc.integer({ min: 1, max: 16_384 }),
  height: fc.integer({ min: 1, max: 16_384 }),
  primary: fc.boolean(),
});

const iceUrl = fc
  .tuple(
    fc.constantFrom('stun', 'stuns', 'turn', 'turns'),
    fc.stringMatching(/^[a-z0-9.-]{1,40}(:[0-9]{1,5})?$/),
  )
  .map(([s, h]) => `${s}:${h}`);
export const iceServer: fc.Arbitrary<IceServer> = fc.record(
  {
    urls: fc.oneof(iceUrl, fc.array(iceUrl, { minLength: 1, maxLength: 4 })),
    username: fc.string({ maxLength: 64 }),
    credential: fc.string({ maxLength: 64 }),
  },
  { requiredKeys: ['urls'] },
);

export const unit = fc.double({ min: 0, max: 1, noNaN: true });
