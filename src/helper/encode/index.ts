/**
 * Picks and starts the encoder asked for (default `auto`). Nothing imports this file back: the
 * implementations depend on encoder.ts (the interface) only.
 *
 * `auto`: on Windows a Media Foundation MFT (hardware first, then Microsoft's software one), then ffmpeg
 * if one is installed; elsewhere DEFAULT_ENCODER_KIND. Only an `unavailable` failure moves on to the
 * next; what was picked (and what was skipped, and why) is logged once per process, and again only if
 * the pick changes.
 */
import { errorMessage } from '../../errors/error-text.js';
import {
  DEFAULT_ENCODER_KIND,
  EncoderError,
  validateConfig,
  type Encoder,
  type EncoderConfig,
  type EncoderKind,
  type EncoderOptions,
} from './encoder.js';

export async function createEncoder(config: EncoderConfig, options: EncoderOptions = {}): Promise<Encoder> {
  validateConfig(config);
  const kind = options.kind ?? 'auto';
  if (kind === 'auto') return chooseEncoder(config, options);
  return createKind(kind, config, options);
}

/** The order `auto` tries on a platform. */
export function autoOrder(platform: NodeJS.Platform = process.platform): EncoderKind[] {
  return platform === 'win32' ? ['mf', 'ffmpeg'] : [DEFAULT_ENCODER_KIND];
}

let lastChoice: string | undefined;

/** `auto`: the first encoder of `autoOrder` that starts. */
export async function chooseEncoder(
  config: EncoderConfig,
  options: EncoderOptions,
  deps: {
    platform?: NodeJS.Platform;
    create?: (kind: EncoderKind, config: EncoderConfig, options: EncoderOptions) => Promise<Encoder>;
  } = {},
): Promise<Encoder> {
  const create = deps.create ?? createKind;
  const skipped: string[] = [];
  for (const kind of autoOrder(deps.platform)) {
    try {
      const encoder = await create(kind, config, options);
      const choice = `${encoder.kind}: ${encoder.description}`;
      if (choice !== lastChoice) {
        lastChoice = choice;
        options.log?.info(
          { encoder: encoder.kind, description: encoder.description, ...(skipped.length ? { skipped } : {}) },
          'encoder chosen (--encoder auto)',
        );
      }
      return encoder;
    } catch (err) {
      if (!(err instanceof EncoderError) || err.code !== 'unavailable') throw err;
      skipped.push(`${kind}: ${errorMessage(err)}`);
    }
  }
  throw new EncoderError('unavailable', `no H.264 encoder can start here (${skipped.join('; ')})`);
}

/** Forgets the logged choice (tests). */
export function resetEncoderChoiceLog(): void {
  lastChoice = undefined;
}

async function createKind(
  kind: EncoderKind,
  config: EncoderConfig,
  options: EncoderOptions,
): Promise<Encoder> {
  if (kind === 'webcodecs') {
    const { WebCodecsEncoder, loadWebCodecs } = await import('./webcodecs-encoder.js');
    await loadWebCodecs();
    return WebCodecsEncoder.create(config, options);
  }
  if (kind === 'mf') {
    if (process.platform !== 'win32')
      throw new EncoderError('unavailable', 'the Media Foundation encoder exists only on Windows');
    const [{ MfEncoder }, { koffiMfApi }] = await Promise.all([
      import('./mf-encoder.js'),
      import('./win32-mf-api.js'),
    ]);
    return MfEncoder.create(koffiMfApi, config, { mfClass: options.mfClass ?? 'any' });
  }
  const { FfmpegEncoder } = await import('./ffmpeg-encoder.js');
  return FfmpegEncoder.create(config, options);
}
