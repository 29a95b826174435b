import type { Logger } from '../../log/logger.js';
import type { CapturerKind } from '../capture/capturer.js';
import { createCapturer } from '../capture/index.js';
import { createDesktopSession } from '../desktop/desktop-session.js';
import type { DesktopHost } from './desktop-host.js';
import type { EncoderChoice } from '../encode/encoder.js';
import {
  createClipboard,
  createInputInjector,
  createLocalInputBlock,
  type InputBackend,
} from '../input/index.js';
import type { LocalInputBlock } from '../input/local-input-block.js';
import { BitrateController } from '../pipeline/bitrate-controller.js';
import { EncoderShare } from '../pipeline/encoder-share.js';
import type { ResolutionMode } from '../pipeline/picture-scale.js';
import { defaultBitrate } from '../pipeline/display-pipeline.js';
import { MediaHub } from '../pipeline/media-hub.js';
import { chooseH264 } from '../webrtc/h264-offer.js';
import { DEFAULT_PROFILE_LEVEL_ID } from '../encode/h264-profile.js';
import { WebRtcDesktopHost } from './webrtc-desktop-host.js';
import { controlAllowed } from '../webrtc/channel-permissions.js';
import type { DesktopAuditEvent } from '../../protocol/audit-event.js';
import { errorMessage } from '../../errors/error-text.js';
import { ProtocolError } from '../../protocol/validate.js';
import type { ServiceRequests } from '../service-requests.js';
import {
  chooseFileAccess,
  DEFAULT_MAX_UPLOAD_BYTES,
  type FileAccessChoice,
  type FilesPolicy,
} from '../files/index.js';
import { serveFiles } from '../files/files-session.js';
import { createPresenceWindows } from '../presence/index.js';
import { SessionPresence } from '../presence/session-presence.js';
import type { AudioCaptureKind } from '../audio/audio-capture.js';
import { AudioHub } from '../audio/audio-hub.js';
import { startAudioCapture } from '../audio/index.js';
import { createOpusEncoder } from '../audio/opus-encoder.js';

export interface DefaultHostOptions {
  log: Logger;
  capture?: CapturerKind;
  encoder?: EncoderChoice;
  /** ffmpeg encoder only: `libx264`, a hardware encoder, or `auto` (see hardware-probe.ts). */
  codec?: string;
  input?: InputBackend;
  fps?: number;
  /** Target bitrate in bit/s; 0 or absent picks one from the display size. */
  bitrate?: number;
  /** `auto` (default): half the resolution when the bitrate is too thin for the full picture; `full`: never. */
  resolution?: ResolutionMode;
  /** Synthetic capture only: the displays to simulate. */
  syntheticDisplays?: { width: number; height: number }[];
  /** X11: the display to capture and inject into (default `$DISPLAY`). */
  display?: string;
  /** What viewers may ask of the service (Ctrl+Alt+Del); without it they are answered `unsupported`. */
  services?: ServiceRequests;
  /** File transfer on the `files` channel (design/FILES.md); `false` turns it off. Default: on, 4 GiB. */
  files?: FilesPolicy | false;
  /**
   * The being-viewed indicator and the session's chat window (presence/): on by default; false shows
   * neither (chat lines are then answered `unavailable`).
   */
  presence?: boolean;
  /**
   * The session's sound (audio/): `pulse` on Linux by default, `fake` for tests, false for none. The
   * capture runs only while a viewer listens.
   */
  audio?: AudioCaptureKind | false;
}

/**
 * The helper's DesktopHost: WebRTC peers fed by one shared capture → encode pipeline per display, with
 * the session's input injector, clipboard and cursor attached to each viewer.
 */
export function createDefaultDesktopHost(opts: DefaultHostOptions): DesktopHost {
  const { log } = opts;
  const fps = opts.fps ?? 30;
  let hubError: string | undefined;
  // One promise, so viewers that arrive together share one capturer (each would hold an X connection).
  let hubStarting: Promise<MediaHub | undefined> | undefined;

  const getHub = (): Promise<MediaHub | undefined> => (hubStarting ??= startHub());
  // Decided once per helper, at the first files channel: whose identity touches the user's files.
  let fileAccess: Promise<FileAccessChoice> | undefined;
  const filesPolicy = opts.files;
  const getFileAccess = (): Promise<FileAccessChoice> =>
    (fileAccess ??=
      filesPolicy === false
        ? Promise.resolve({ reason: 'file transfer is turned off on this machine' })
        : chooseFileAccess(filesPolicy ?? { maxUploadBytes: DEFAULT_MAX_UPLOAD_BYTES }, log).catch(
            (err: unknown) => ({ reason: `file access failed: ${errorMessage(err)}` }),
          ));
  const startHub = async (): Promise<MediaHub | undefined> => {
    try {
      const capturer = await createCapturer({
        log,
        ...(opts.capture ? { kind: opts.capture } : {}),
        ...(opts.display ? { display: opts.display } : {}),
        ...(opts.syntheticDisplays ? { syntheticDisplays: opts.syntheticDisplays } : {}),
      });
      return new MediaHub(
        capturer,
        {
          fps,
          bitrate: opts.bitrate ?? 0,
          encoder: opts.encoder,
          codec: opts.codec,
          resolution: opts.resolution,
        },
        log,
      );
    } catch (err) {
      hubError = errorMessage(err);
      log.error({ err: hubError }, 'cannot capture this session');
      return undefined;
    }
  };

  const audioHub =
    opts.audio === false
      ? undefined
      : new AudioHub({
          log,
          createEncoder: () => createOpusEncoder(),
          startCapture: () => startAudioCapture({ log, ...(opts.audio ? { kind: opts.audio } : {}) }),
        });
  // One per helper, made at the first desktop that asks (access.blockLocalInput).
  let localInputBlock: LocalInputBlock | undefined;
  let auditListener: (event: DesktopAuditEvent) => void = () => {};
  const presence = new SessionPresence({
    log,
    ...(opts.presence === false ? {} : createPresenceWindows({ log, display: opts.display })),
    disconnectAll: () => host.disconnectAll(),
    audit: (event) => auditListener(event),
  });
  const host: WebRtcDesktopHost = new WebRtcDesktopHost({
    log,
    presence,
    audio: audioHub !== undefined,
    audit: (event) => auditListener(event),
    probe: async () => {
      const h = await getHub();
      return h
        ? { canCapture: true, displays: h.displays() }
        : { canCapture: false, displays: [], reason: hubError ?? 'no capturer' };
    },
    attach: async (peer, req) => {
      const h = await getHub();
      if (!h) throw new Error(`cannot capture this session: ${hubError ?? 'no capturer'}`);
      const display = h.displays()[req.displayIndex];
      // The viewer asked for a display this session does not have: its mistake, answered bad_request.
      if (!display)
        throw new ProtocolError(
          'displayIndex',
          `no display ${req.displayIndex} (this session has ${h.displays().length})`,
        );
      // A relayed viewer (no offer) decodes with WebCodecs, which takes constrained baseline everywhere.
      const profile =
        req.offer !== undefined ? chooseH264(req.offer).profileLevelId : DEFAULT_PROFILE_LEVEL_ID;
      const input = { backend: opts.input, display: opts.display, log };
      // What this viewer opens (a pipeline subscription, X connections for input, clipboard and
      // cursor): if one step fails, the ones before it are closed here; after that, by the session.
      const source = h.videoSource(req.displayIndex, profile);
      const opened: { close(): unknown }[] = [source];
      let session: ReturnType<typeof createDesktopSession>;
      try {
        const injector = createInputInjector(input);
        opened.push(injector);
        const clipboard = createClipboard(input);
        opened.push(clipboard);
        const cursor = h.cursorFeed(() => source.currentDisplay);
        opened.push(cursor);
        const services = opts.services;
        session = createDesktopSession({
          peer,
          source,
          injector,
          clipboard,
          cursor,
          log,
          control: controlAllowed(req.permissions),
          ...(audioHub ? { audio: audioHub } : {}),
          ...(services ? { secureAttention: () => services.secureAttention() } : {}),
        });
      } catch (err) {
        for (const r of opened.reverse()) {
          await Promise.resolve()
            .then(() => r.close())
            .catch((e: unknown) => log.warn({ err: errorMessage(e) }, 'closing after a failed attach'));
        }
        throw err;
      }
      const files = serveFiles(peer, getFileAccess(), {
        maxUploadBytes: filesPolicy === false ? 0 : (filesPolicy?.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES),
        log: log.child({ desktop: req.sessionId, channel: 'files' }),
        // Metadata only: the name as stored or read, the size, the outcome; never the bytes.
        onTransfer: (t) => auditListener({ kind: 'file_transfer', desktop: req.sessionId, ...t }),
        // A transfer moving bytes is activity: the idle timeout does not cut it (SESSION-POLICY.md).
        onProgress: () => host.noteActivity(req.sessionId),
      });
      const targetBps = opts.bitrate || defaultBitrate(display.width, display.height, fps);
      const controller = new BitrateController({ targetBps });
      // This viewer's path limits the stream it shares with others only while the controller
      // holds it below the target; back at the target, what the viewers asked for applies.
      // The controller's rate is for everything sent; the encoder gets its own share of it (FEC and
      // retransmissions ride on top: encoder-share.ts).
      const share = new EncoderShare();
      const forEncoder = (bps: number): number => {
        const sent = peer.videoSenderStats;
        return sent ? Math.round(bps * share.read(sent)) : bps;
      };
      const limit = (bps: number): number | undefined => {
        const encoderBps = bps < targetBps ? forEncoder(bps) : undefined;
        source.limitBitrate(encoderBps);
        return encoderBps;
      };
      limit(controller.bitrate);
      // What this viewer was sent: the video packets as they leave (FEC and retransmissions too) where the
      // peer reports them; else the access units handed to it while connected, which still count
      // units the RTP path drops, so the delivered rate is then an upper bound. Same clock as the
      // reports below.
      const offSent = peer.onVideoSent
        ? peer.onVideoSent((bytes) => controller.onSent(bytes, performance.now()))
        : source.onAccessUnit((unit) => {
            if (peer.state === 'connected') controller.onSent(unit.data.length, performance.now());
          });
      const offStats = peer.onReceiverStats((stats) => {
        if (process.env.PORTHOLE_TRACE_RR) log.info({ rr: stats }, 'TRACE rr');
        const d = controller.onReport(stats, performance.now());
        if (d === undefined) return;
        const encoderBps = limit(d.bps);
        const kbps = (bps: number | undefined) => (bps === undefined ? undefined : Math.round(bps / 1000));
        log.info(
          {
            desktop: req.sessionId,
            bitrate: d.bps,
            reason: d.reason,
            lossPct: d.loss === undefined ? undefined : Math.round(d.loss * 1000) / 10,
            rttRiseMs: d.rttRiseMs === undefined ? undefined : Math.round(d.rttRiseMs),
            rembKbps: kbps(d.rembBps),
            deliveredKbps: kbps(d.deliveredBps),
            sentKbps: kbps(d.sentBps),
            encoderKbps: kbps(encoderBps),
          },
          'bitrate adapted',
        );
      });
      // access.blockLocalInput (the service sends it only for a viewer allowed to control): held from
      // the moment this viewer connects until its desktop closes.
      let releaseBlock: (() => void) | undefined;
      const holdBlock = (state: string): void => {
        if (state !== 'connected' || releaseBlock) return;
        localInputBlock ??= createLocalInputBlock({ backend: opts.input, log });
        releaseBlock = localInputBlock.hold();
      };
      const offBlock = req.blockLocalInput ? peer.onState(holdBlock) : () => {};
      if (req.blockLocalInput) holdBlock(peer.state);
      return {
        displayIndex: () => source.currentDisplay,
        close: async () => {
          offBlock();
          releaseBlock?.();
          offStats();
          offSent();
          await files.close();
          await session.close();
        },
      };
    },
  });
  const audited = host as WebRtcDesktopHost & Required<Pick<DesktopHost, 'onAudit'>>;
  audited.onAudit = (listener) => {
    auditListener = listener;
  };
  const close = host.close.bind(host);
  host.close = async () => {
    await close();
    await audioHub?.close();
    localInputBlock?.close();
    presence.close();
    await (await hubStarting)?.close();
  };
  return host;
}
