/**
 * Picks and starts the encoder asked for (default: DEFAULT_ENCODER_KIND). Nothing imports this file
 * back: the implementations depend on encoder.ts (the interface) only.
 */
import {
  DEFAULT_ENCODER_KIND,
  validateConfig,
  type Encoder,
  type EncoderConfig,
  type EncoderOptions,
} from './encoder.js';

export async function createEncoder(config: EncoderConfig, options: EncoderOptions = {}): Promise<Encoder> {
  validateConfig(config);
  const kind = options.kind ?? DEFAULT_ENCODER_KIND;
  if (kind === 'webcodecs') {
    const { WebCodecsEncoder, loadWebCodecs } = await import('./webcodecs-encoder.js');
    await loadWebCodecs();
    return WebCodecsEncoder.create(config, options);
  }
  const { FfmpegEncoder } = await import('./ffmpeg-encoder.js');
  return FfmpegEncoder.create(config, options);
}
