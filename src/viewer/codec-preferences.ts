/**
 * Orders the receiver's codecs so the offer lists H.264 with packetization-mode=1 first: the helper
 * only sends H.264 and needs mode 1 (it fragments NAL units into FU-A packets). Among those,
 * constrained baseline (profile-level-id 42e0xx) goes first because every decoder has it.
 */

export interface CodecLike {
  mimeType: string;
  sdpFmtpLine?: string;
}

function rank(c: CodecLike): number {
  if (c.mimeType.toLowerCase() !== 'video/h264') return 3;
  const fmtp = (c.sdpFmtpLine ?? '').toLowerCase();
  if (!/packetization-mode=1/.test(fmtp)) return 2;
  return /profile-level-id=42e0/.test(fmtp) ? 0 : 1;
}

/** A stable reorder: retransmission and FEC entries keep their place after the video codecs. */
export function preferH264<C extends CodecLike>(codecs: readonly C[]): C[] {
  return codecs
    .map((codec, i) => ({ codec, i, r: rank(codec) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.codec);
}
