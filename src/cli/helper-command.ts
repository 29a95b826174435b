/**
 * `porthole helper`. Every command module is loaded by `porthole service` too (src/cli/commands.ts),
 * so this one imports nothing from src/helper at the top: capture, encoders and node-datachannel load
 * in run(), in the helper process only.
 */
import { LOG_LEVELS, type LogLevel } from '../log/logger.js';
import { int, oneOf, str } from '../protocol/validate.js';
import { UsageError, type Command } from './command.js';
import { errorMessage } from '../errors/error-text.js';
import { createLogger } from '../log/pino-logger.js';

export const helperCommand: Command = {
  name: 'helper',
  summary: 'Run a per-session helper (started by the service with a secret on stdin, not by hand)',
  usage:
    'porthole helper --session N --helper-id ID [--channel-fd 3 | --pipe \\\\.\\pipe\\NAME --service-pid PID --service-sid SID]   (secret on stdin)',
  options: {
    session: { type: 'string', description: 'OS session number this helper serves' },
    'helper-id': { type: 'string', description: 'Id the service gave this helper (for the handshake)' },
    'channel-fd': { type: 'string', description: 'fd of the inherited channel socket (default 3)' },
    pipe: { type: 'string', description: "Windows: the service's named pipe to connect to" },
    'service-pid': {
      type: 'string',
      description: 'Windows, with --pipe: the process that must be serving the pipe (the service)',
    },
    'service-sid': {
      type: 'string',
      description: "Windows, with --pipe: that process's account, as a SID (S-1-5-18 for LocalSystem)",
    },
    'log-level': { type: 'string', description: 'debug | info | warn | error | silent (default info)' },
    capture: { type: 'string', description: 'x11 | synthetic | win32 (default: this platform)' },
    encoder: {
      type: 'string',
      description:
        'auto | mf | ffmpeg | webcodecs (default auto: on Windows Media Foundation hardware, then software, then ffmpeg; elsewhere ffmpeg. Env PORTHOLE_FFMPEG names the ffmpeg binary)',
    },
    codec: {
      type: 'string',
      description:
        'ffmpeg encoder: libx264 (default) | h264_nvenc | h264_qsv | h264_amf | h264_mf | auto (the first hardware one that works)',
    },
    fps: { type: 'string', description: 'Frames per second to capture and encode (default 30)' },
    bitrate: { type: 'string', description: 'Target bit/s (default: from the display size)' },
    resolution: {
      type: 'string',
      description:
        'auto | full: auto (default) halves the width and height when the bitrate is too thin for the full picture (1280×720: below 369 kb/s, back above 553 kb/s); full never does',
    },
    files: { type: 'string', description: 'on | off: file transfer on the files channel (default on)' },
    audio: {
      type: 'string',
      description:
        "pulse | wasapi | fake | off: the session's sound (default pulse on Linux, wasapi on Windows; fake plays a 1 kHz tone; env PORTHOLE_PULSE_SERVER names the PulseAudio server)",
    },
    'files-dir': {
      type: 'string',
      description:
        "Where uploads land: absolute, or relative to the user's home (default: the XDG download dir, else Downloads)",
    },
    'files-max-bytes': { type: 'string', description: 'Largest upload in bytes (default 4 GiB)' },
    'files-root': {
      type: 'string',
      multiple: true,
      description:
        'A folder viewers may browse and download from, absolute or relative to home (repeatable; default: the home)',
    },
  },
  async run(values, positionals) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values.session === undefined || values['helper-id'] === undefined) {
      throw new UsageError('--session and --helper-id are required (the service passes them)');
    }
    const parse = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (err) {
        throw new UsageError(errorMessage(err));
      }
    };
    const sessionId = parse(() => int(0, 0x7fff_ffff)(Number(values.session), '--session'));
    const helperId = parse(() =>
      str({ min: 1, max: 64, pattern: /^[A-Za-z0-9._:-]+$/ })(values['helper-id'], '--helper-id'),
    );
    const channelFd = parse(() => int(3, 1024)(Number(values['channel-fd'] ?? 3), '--channel-fd'));
    const pipeName = parse(() =>
      values.pipe === undefined
        ? undefined
        : str({ min: 10, max: 256, pattern: /^\\\\\.\\pipe\\[A-Za-z0-9._-]+$/ })(values.pipe, '--pipe'),
    );
    if (
      pipeName !== undefined &&
      (values['service-pid'] === undefined || values['service-sid'] === undefined)
    ) {
      throw new UsageError('--pipe needs --service-pid and --service-sid (the service passes them)');
    }
    const pipe = parse(() =>
      pipeName === undefined
        ? undefined
        : {
            name: pipeName,
            server: {
              pid: int(1, 0xffff_ffff)(Number(values['service-pid']), '--service-pid'),
              sid: str({ min: 5, max: 184, pattern: /^S-1-[0-9]+(-[0-9]+)*$/ })(
                values['service-sid'],
                '--service-sid',
              ),
            },
          },
    );
    const level = parse(() =>
      oneOf(LOG_LEVELS)(values['log-level'] ?? process.env.PORTHOLE_LOG_LEVEL ?? 'info', '--log-level'),
    );
    const capture = parse(() =>
      values.capture === undefined
        ? undefined
        : oneOf(['x11', 'synthetic', 'win32'])(values.capture, '--capture'),
    );
    const encoder = parse(() =>
      values.encoder === undefined
        ? undefined
        : oneOf(['auto', 'mf', 'ffmpeg', 'webcodecs'])(values.encoder, '--encoder'),
    );
    // A small module (it imports only node:child_process), loaded before the media stack so that a
    // bad --codec fails fast.
    const { HARDWARE_H264_ENCODERS } = await import('../helper/encode/hardware-probe.js');
    const codecs = ['libx264', ...HARDWARE_H264_ENCODERS, 'auto'] as const;
    const codec = parse(() =>
      values.codec === undefined ? undefined : oneOf(codecs)(values.codec, '--codec'),
    );
    if (codec !== undefined && (encoder === 'webcodecs' || encoder === 'mf')) {
      throw new UsageError(`--codec chooses the ffmpeg encoder; it does not apply to --encoder ${encoder}`);
    }
    const fps = parse(() => int(1, 120)(Number(values.fps ?? 30), '--fps'));
    const bitrate = parse(() => int(0, 100_000_000)(Number(values.bitrate ?? 0), '--bitrate'));
    const resolution = parse(() =>
      values.resolution === undefined
        ? undefined
        : oneOf(['auto', 'full'])(values.resolution, '--resolution'),
    );
    const files = parse(() => filesPolicy(values));
    const audioFlag = parse(() =>
      values.audio === undefined
        ? undefined
        : oneOf(['pulse', 'wasapi', 'fake', 'off'])(values.audio, '--audio'),
    );
    const audio = audioFlag === 'off' ? false : audioFlag;
    const [
      { createDefaultDesktopHost },
      { runHelper },
      { ChannelServiceRequests },
      { createConsentPromptUi },
    ] = await Promise.all([
      import('../helper/host/default-wiring.js'),
      import('../helper/helper-main.js'),
      import('../helper/service-requests.js'),
      import('../helper/consent/index.js'),
    ]);
    const log = createLogger('porthole-helper', level as LogLevel).child({ sessionId });
    if (process.platform === 'linux') {
      // Belt and braces beside the channel: the kernel signals the helper when its service dies.
      const { signalOnParentDeath } = await import('../native/linux/parent-death.js');
      // A service that died before this line is noticed through the channel, which is then closed.
      if (!signalOnParentDeath('SIGTERM')) log.warn({}, 'prctl(PR_SET_PDEATHSIG) failed');
    }
    const services = new ChannelServiceRequests();
    const host = createDefaultDesktopHost({
      log,
      capture,
      encoder,
      codec,
      fps,
      bitrate,
      ...(resolution === undefined ? {} : { resolution }),
      services,
      files,
      ...(audio === undefined ? {} : { audio }),
    });
    const code = await runHelper({
      sessionId,
      helperId,
      channelFd,
      ...(pipe ? { pipe } : {}),
      host,
      services,
      consent: createConsentPromptUi(log),
      log,
    });
    // node-datachannel's threads and a lingering encoder keep the event loop alive after the teardown;
    // a helper has nothing left to do once runHelper returns, so it ends here.
    process.exit(code);
  },
};

/** The file-transfer flags as a policy, or false for `--files off`. */
function filesPolicy(
  values: Record<string, unknown>,
): false | { maxUploadBytes: number; uploadDir?: string; roots?: string[] } {
  const on = oneOf(['on', 'off'])(values.files ?? 'on', '--files');
  if (on === 'off') return false;
  const path = str({ min: 1, max: 4096, pattern: /^[^\0]+$/ });
  const maxUploadBytes = int(0, Number.MAX_SAFE_INTEGER)(
    Number(values['files-max-bytes'] ?? 4 * 1024 * 1024 * 1024),
    '--files-max-bytes',
  );
  const dir = values['files-dir'] === undefined ? undefined : path(values['files-dir'], '--files-dir');
  const roots = (values['files-root'] as string[] | undefined)?.map((r, i) => path(r, `--files-root[${i}]`));
  return { maxUploadBytes, ...(dir ? { uploadDir: dir } : {}), ...(roots?.length ? { roots } : {}) };
}
