import { describe, expect, it } from 'vitest';
import { preferH264 } from '../../src/viewer/codec-preferences.js';

describe('preferH264', () => {
  it('puts H.264 packetization-mode=1 first (constrained baseline before high), keeping the rest in order', () => {
    const codecs = [
      { mimeType: 'video/VP8' },
      { mimeType: 'video/rtx', sdpFmtpLine: 'apt=96' },
      {
        mimeType: 'video/H264',
        sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
      },
      {
        mimeType: 'video/H264',
        sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f',
      },
      {
        mimeType: 'video/H264',
        sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
      },
      { mimeType: 'video/AV1' },
    ];
    expect(preferH264(codecs).map((c) => `${c.mimeType} ${c.sdpFmtpLine ?? ''}`)).toEqual([
      'video/H264 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
      'video/H264 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f',
      'video/H264 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
      'video/VP8 ',
      'video/rtx apt=96',
      'video/AV1 ',
    ]);
  });

  it('leaves a list without H.264 as it is', () => {
    const codecs = [{ mimeType: 'video/VP9' }, { mimeType: 'video/VP8' }];
    expect(preferH264(codecs)).toEqual(codecs);
  });
});
