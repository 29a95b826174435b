/**
 * Starting one encoder MFT with porthole's settings (see mf-encoder.ts for why each): ICodecAPI first
 * (CBR, bitrate, low latency, no B-frames, a long GOP), then the H.264 output type and the NV12 input
 * type, then streaming. A refused ICodecAPI setting is recorded, not fatal; anything else closes the
 * MFT and throws.
 */
import type { EncoderConfig } from './encoder.js';
import { DEFAULT_PROFILE_LEVEL_ID, parseProfileLevelId } from './h264-profile.js';
import type { MfActivation, MfTransform } from './mf-api.js';
import {
  MFT_MESSAGE,
  eAVEncCommonRateControlMode_CBR,
  eAVEncH264VProfile,
} from '../../native/win32/mf-types.js';

/** GOP length asked for: an hour of frames, capped where encoders' ranges commonly end. */
const MAX_GOP = 0xffff;

/** What the encoder tells about its MFT (the `description`, and the tests). */
export interface MfSessionInfo {
  name: string;
  hardware: boolean;
  async: boolean;
  /** ICodecAPI settings the MFT refused, by property, with the HRESULT. */
  refused: Record<string, number>;
}

/** eAVEncH264VProfile for the viewer's offer: Main or High when offered, else Baseline (constrained in practice). */
export function mfProfileFor(profileLevelId: string | undefined): number {
  const { profileIdc } = parseProfileLevelId(profileLevelId ?? DEFAULT_PROFILE_LEVEL_ID);
  if (profileIdc === eAVEncH264VProfile.High) return eAVEncH264VProfile.High;
  if (profileIdc === eAVEncH264VProfile.Main) return eAVEncH264VProfile.Main;
  return eAVEncH264VProfile.Base;
}

/** Creates, configures and starts one MFT; closes it and rethrows when any required step fails. */
export function startTransform(
  activation: MfActivation,
  config: EncoderConfig,
): { t: MfTransform; info: MfSessionInfo } {
  const t = activation.activate();
  try {
    if (t.async) t.unlockAsync();
    t.setLowLatencyAttribute();
    const refused: Record<string, number> = {};
    const set = (property: Parameters<MfTransform['setCodecValue']>[0], value: number): void => {
      const hr = t.setCodecValue(property, value);
      if (hr < 0) refused[property] = hr;
    };
    set('rateControlMode', eAVEncCommonRateControlMode_CBR);
    set('meanBitRate', config.bitrate);
    set('lowLatency', 1);
    set('bPictureCount', 0);
    set('gopSize', Math.min(MAX_GOP, Math.round(config.fps * 3600)));
    const size = { width: config.width, height: config.height, fps: config.fps };
    // Encoders take their output type first: the input types they offer depend on it.
    t.setOutputType({
      subtype: 'H264',
      ...size,
      bitrate: config.bitrate,
      profile: mfProfileFor(config.profileLevelId),
    });
    t.setInputType({ subtype: 'NV12', ...size });
    t.processMessage(MFT_MESSAGE.NOTIFY_BEGIN_STREAMING);
    t.processMessage(MFT_MESSAGE.NOTIFY_START_OF_STREAM);
    return { t, info: { name: activation.name, hardware: activation.hardware, async: t.async, refused } };
  } catch (err) {
    t.close();
    throw err;
  }
}
