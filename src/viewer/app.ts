/**
 * The viewer once signed in: pickers, connection lifecycle (connect, disconnect, session switch
 * without a reload, reconnect state), and routing of helper messages to the parts that show them.
 */
import type { DisplayInfo } from '../protocol/common.js';
import { MAX_CLIPBOARD_TEXT, type HelperToViewer, type InputMessage } from '../protocol/datachannel.js';
import type { ApiClient, Device, RemoteSession } from './api-client.js';
import { ChatPanel } from './chat-panel.js';
import { ClipboardPanel } from './clipboard-panel.js';
import { ViewerFileTransfers } from './file-transfers.js';
import { FilesPanel } from './files-panel.js';
import type { ConnectionFactory, ConnectionState, DesktopConnection } from './desktop-connection.js';
import { isPressed, setOptions, setPressed } from './dom.js';
import { InputCapture } from './input-capture.js';
import { controlMessage, inputMessage } from './input-messages.js';
import { defaultSession, deviceLabel, displayLabel, sessionLabel, sessionLimitNotice } from './labels.js';
import { AudioOutput } from './audio-output.js';
import { StatsOverlay } from './stats-overlay.js';
import { Toasts } from './toasts.js';
import { TopBar } from './top-bar.js';
import { VideoStage } from './video-stage.js';

const AUTOMATIC = 'auto';

export class ViewerApp {
  readonly bar = new TopBar();
  readonly stage = new VideoStage();
  private readonly toasts = new Toasts();
  private readonly stats: StatsOverlay;
  private readonly clipboard: ClipboardPanel;
  private readonly files: FilesPanel;
  private readonly chat: ChatPanel;
  private readonly input: InputCapture;
  private readonly audio = new AudioOutput((on) => this.connection?.setAudioWanted?.(on));
  private devices: Device[] = [];
  private sessions: RemoteSession[] = [];
  private displays: DisplayInfo[] = [];
  private connection: DesktopConnection | undefined;

  constructor(
    private readonly api: ApiClient,
    private readonly connect: ConnectionFactory,
    private readonly onSignOut: () => void,
    options: { viewOnly?: boolean } = {},
  ) {
    this.stats = new StatsOverlay(async () => this.connection?.stats());
    this.clipboard = new ClipboardPanel(
      (text) => this.sendClipboard(text),
      (text, kind) => this.toasts.show(text, kind),
    );
    this.files = new FilesPanel((text, kind) => this.toasts.show(text, kind));
    this.files.acceptDrops(this.stage.root);
    this.chat = new ChatPanel((text) => this.connection?.sendChat(text) ?? false);
    this.bar.addSoundControls(this.audio.toggle, this.audio.volume);
    this.stage.root.append(
      this.audio.element,
      this.files.root,
      this.chat.root,
      this.stats.root,
      this.clipboard.pasteBox,
      this.clipboard.remoteBox,
      this.toasts.root,
    );
    this.input = new InputCapture(this.stage, {
      canSend: () => this.connection?.state === 'connected' && !isPressed(this.bar.viewOnly),
      capturesKeys: () => isPressed(this.bar.captureKeys),
      send: (msg) => this.connection?.sendInput(msg),
    });
    this.wireBar();
    if (options.viewOnly) {
      // The UI side of a view-only token: no input is ever sent (canSend above), no file is offered or
      // dropped, and a badge says so. The helper refuses both channels whatever this page does.
      this.bar.lockViewOnly();
      this.files.refuse('This sign-in is view-only: it cannot send files');
      this.stage.root.classList.add('view-only');
    }
  }

  get elements(): HTMLElement[] {
    return [this.bar.root, this.stage.root];
  }

  async start(): Promise<void> {
    await this.loadDevices();
  }

  private wireBar(): void {
    const b = this.bar;
    b.device.addEventListener('change', () => void this.onDeviceChange());
    b.session.addEventListener('change', () => void this.onSessionChange());
    b.refresh.addEventListener('click', () => void this.loadDevices());
    b.connect.addEventListener(
      'click',
      () => void (this.connection ? this.disconnect() : this.openDesktop()),
    );
    b.display.addEventListener('change', () => {
      this.connection?.sendControl(controlMessage.selectDisplay(Number(b.display.value)));
    });
    b.ctrlAltDel.addEventListener('click', () => {
      if (!isPressed(b.viewOnly)) this.connection?.sendControl(controlMessage.ctrlAltDel());
    });
    b.viewOnly.addEventListener('click', () => {
      const on = !isPressed(b.viewOnly);
      // Release first: once view-only is on nothing may be sent, and nothing may stay held.
      if (on) this.input.releaseAll();
      setPressed(b.viewOnly, on);
      b.setViewOnly(on);
      this.stage.root.classList.toggle('view-only', on);
    });
    b.captureKeys.addEventListener('click', () => {
      if (isPressed(b.captureKeys)) this.input.releaseAll();
      setPressed(b.captureKeys, !isPressed(b.captureKeys));
    });
    b.paste.addEventListener('click', () => void this.clipboard.paste());
    b.files.addEventListener('click', () => this.files.toggle());
    b.chat.addEventListener('click', () => this.chat.toggle());
    b.stats.addEventListener('click', () => {
      setPressed(b.stats, !this.stats.shown);
      this.stats.setShown(!this.stats.shown);
    });
    b.signOut.addEventListener('click', () => {
      void this.disconnect().finally(() => this.onSignOut());
    });
  }

  private report(err: unknown): void {
    const text = err instanceof Error ? err.message : String(err);
    this.toasts.show(text, 'error');
    this.bar.setStatus(text, 'error');
  }

  private async loadDevices(): Promise<void> {
    try {
      this.devices = await this.api.devices();
    } catch (err) {
      this.report(err);
      return;
    }
    const current = this.bar.device.value;
    setOptions(
      this.bar.device,
      this.devices.map((d) => ({ value: d.id, label: deviceLabel(d) })),
    );
    if (!this.devices.some((d) => d.id === current)) {
      const firstOnline = this.devices.find((d) => d.online) ?? this.devices[0];
      if (firstOnline) this.bar.device.value = firstOnline.id;
    }
    if (!this.connection) this.bar.setStatus(this.devices.length ? 'Not connected' : 'No devices registered');
    await this.loadSessions();
  }

  private async loadSessions(): Promise<void> {
    const deviceId = this.bar.device.value;
    this.sessions = [];
    const device = this.devices.find((d) => d.id === deviceId);
    if (device?.online) {
      try {
        this.sessions = await this.api.sessions(deviceId);
      } catch (err) {
        this.report(err);
      }
    }
    const previous = this.bar.session.value;
    const options = this.sessions.map((s) => ({ value: String(s.sessionId), label: sessionLabel(s) }));
    // Without a list (offline device, or none reported) the service still picks one by itself.
    if (!options.length) options.push({ value: AUTOMATIC, label: 'Automatic session' });
    setOptions(this.bar.session, options);
    if (!options.some((o) => o.value === previous)) {
      const pick = defaultSession(this.sessions);
      this.bar.session.value = pick ? String(pick.sessionId) : AUTOMATIC;
    }
  }

  private async onDeviceChange(): Promise<void> {
    if (this.connection) await this.disconnect();
    await this.loadSessions();
  }

  /** Switching session while connected: stop this desktop, start the other, no reload. */
  private async onSessionChange(): Promise<void> {
    if (!this.connection) return;
    await this.disconnect();
    await this.openDesktop();
  }

  private async openDesktop(): Promise<void> {
    const deviceId = this.bar.device.value;
    if (!deviceId) {
      this.report(new Error('Choose a device first'));
      return;
    }
    const session = this.bar.session.value;
    const target = {
      deviceId,
      ...(session && session !== AUTOMATIC ? { targetSessionId: Number(session) } : {}),
    };
    const connection = this.connect(target, {
      onState: (state, detail) => {
        if (this.connection === connection) this.onState(state, detail);
      },
      onStream: (stream) => {
        if (this.connection === connection) this.stage.show(stream);
      },
      onVideoFrame: (frame) => {
        if (this.connection === connection) this.stage.drawFrame(frame);
        else frame.close();
      },
      onAudio: (stream) => {
        if (this.connection === connection) this.audio.attach(stream);
      },
      onFilesChannel: (channel) => {
        if (this.connection !== connection) return;
        const files = new ViewerFileTransfers(channel, {
          onRoots: (roots) => this.files.onRoots(roots),
          onChange: (t) => this.files.onChange(t),
          onDownloaded: (t, blob) => this.files.save(t, blob),
          onNotice: (text) => this.toasts.show(`Files: ${text}`, 'error'),
        });
        this.files.attach(files);
      },
      onHelperMessage: (msg) => {
        if (this.connection === connection) this.onHelperMessage(msg);
      },
      onChat: (msg) => {
        if (this.connection !== connection) return;
        if (msg.type === 'message') this.chat.received(msg.text);
        else this.chat.notice(`Not delivered: ${msg.message}`);
      },
    });
    this.connection = connection;
    if (!this.audio.on) connection.setAudioWanted?.(false);
    this.bar.setConnected(true);
    this.bar.connect.disabled = true;
    try {
      await connection.start();
    } catch (err) {
      if (this.connection === connection) {
        this.connection = undefined;
        this.bar.setConnected(false);
        this.stage.clear('Not connected');
      }
      this.report(err);
    } finally {
      this.bar.connect.disabled = false;
    }
  }

  private async disconnect(): Promise<void> {
    const connection = this.connection;
    if (!connection) return;
    this.input.releaseAll();
    this.connection = undefined;
    this.resetDesktopUi('Not connected');
    this.bar.setStatus('Not connected');
    await connection.stop();
  }

  private resetDesktopUi(placeholder: string): void {
    this.bar.setConnected(false);
    this.displays = [];
    setOptions(this.bar.display, []);
    this.stage.setDisplaySize(undefined);
    this.stage.setRemoteCursorShown(false);
    this.stage.clear(placeholder);
    this.audio.clear();
  }

  private onState(state: ConnectionState, detail?: string): void {
    switch (state) {
      case 'connecting':
        this.bar.setStatus(detail ? `Connecting… (${detail})` : 'Connecting…', 'busy');
        this.stage.clear('Connecting…');
        break;
      case 'connected':
        // `detail` names an unusual path, e.g. "relayed over WebSocket" (relay-connection.ts).
        this.bar.setStatus(detail ? `Connected (${detail})` : 'Connected', 'ok');
        break;
      case 'reconnecting':
        this.bar.setStatus(`Reconnecting… (${detail ?? 'connection lost'})`, 'busy');
        this.input.releaseAll();
        this.stage.clear('Reconnecting…');
        break;
      case 'failed':
        this.connection = undefined;
        this.resetDesktopUi('Connection lost');
        this.bar.connect.textContent = 'Reconnect';
        this.bar.setStatus(`Disconnected: ${detail ?? 'connection lost'}`, 'error');
        break;
      case 'closed':
        break;
    }
  }

  private onHelperMessage(msg: HelperToViewer): void {
    switch (msg.type) {
      case 'displays':
        this.displays = msg.displays;
        setOptions(
          this.bar.display,
          msg.displays.map((d) => ({ value: String(d.index), label: displayLabel(d) })),
        );
        this.bar.display.value = String(msg.current);
        this.stage.setDisplaySize(msg.displays.find((d) => d.index === msg.current));
        break;
      case 'clipboard':
        this.clipboard.showRemote(msg.text);
        break;
      case 'session_limit': {
        const notice = sessionLimitNotice(msg.reason, msg.remainingMs);
        this.toasts.show(notice, msg.remainingMs === 0 ? 'error' : 'info');
        break;
      }
      case 'ended':
        this.toasts.show('The person at the machine disconnected you', 'error');
        break;
      case 'error':
        // No sound on this desktop (turned off there, or the session has no sound server): the Sound
        // control says why in its title; a machine without sound is not an error worth a toast.
        if (msg.about === 'audio') {
          this.audio.clear(`No sound: ${msg.message}`);
          break;
        }
        this.toasts.show(`Remote: ${msg.message}${msg.about ? ` (${msg.about})` : ''}`, 'error');
        break;
      case 'cursor':
        this.stage.cursor.move(msg.x, msg.y, msg.visible, msg.serial);
        break;
      case 'cursor_shape':
        try {
          this.stage.cursor.addShape(msg);
          this.stage.setRemoteCursorShown(true);
        } catch (err) {
          console.warn('porthole: bad cursor shape', err);
        }
        break;
    }
  }

  private sendClipboard(text: string): boolean {
    const msg: InputMessage | undefined = inputMessage.clipboard(text);
    if (!msg) {
      this.toasts.show(
        `That text is too long for the remote clipboard (${MAX_CLIPBOARD_TEXT} characters at most)`,
        'error',
      );
      return false;
    }
    if (!this.connection) return false;
    this.connection.sendInput(msg);
    return true;
  }
}
