/**
 * The `?test-video=WxH` mode: instead of WebRTC, the video plays a generated test pattern and every
 * message the viewer would send is recorded on `window.__portholeSent`, so the layout and the input
 * mapping can be checked in a real browser without a helper. `window.__portholeDeliver(json)` plays
 * the helper's part (cursor, clipboard, errors). It opens no network connection, so leaving it in
 * the production bundle costs a few hundred bytes and no exposure.
 */
import type { ControlMessage, InputMessage } from '../protocol/datachannel.js';
import { parseDataChannelText, parseHelperToViewer } from '../protocol/datachannel.js';
import type {
  ConnectionEvents,
  ConnectionFactory,
  ConnectionState,
  ConnectionTarget,
  DesktopConnection,
} from './desktop-connection.js';
import type { StatsEntry } from './stats.js';

export type SentMessage =
  | ({ channel: 'input' | 'control' } & (InputMessage | ControlMessage))
  | { channel: 'chat'; type: 'message'; text: string };

declare global {
  interface Window {
    __portholeSent?: SentMessage[];
    __portholeDeliver?: (json: string) => void;
  }
}

/** Parses `?test-video=1280x720` (or `1` for 1280×720); undefined when the mode is off. */
export function testVideoSize(search: string): { width: number; height: number } | undefined {
  const value = new URLSearchParams(search).get('test-video');
  if (value === null) return undefined;
  const m = /^(\d{2,4})x(\d{2,4})$/.exec(value);
  return m ? { width: Number(m[1]), height: Number(m[2]) } : { width: 1280, height: 720 };
}

/** A pattern whose corners and centre make a wrong crop or stretch obvious in a screenshot. */
function drawPattern(ctx: CanvasRenderingContext2D, w: number, h: number, frame: number): void {
  const colours = ['#c0392b', '#27ae60', '#2980b9', '#f1c40f', '#8e44ad', '#16a085', '#d35400', '#ecf0f1'];
  colours.forEach((c, i) => {
    ctx.fillStyle = c;
    ctx.fillRect((i * w) / colours.length, 0, w / colours.length + 1, h);
  });
  ctx.strokeStyle = '#000';
  ctx.lineWidth = Math.max(4, w / 200);
  ctx.strokeRect(ctx.lineWidth / 2, ctx.lineWidth / 2, w - ctx.lineWidth, h - ctx.lineWidth);
  ctx.beginPath();
  ctx.arc(w / 2, h / 2, Math.min(w, h) / 4, 0, Math.PI * 2);
  ctx.stroke();
  ctx.fillStyle = '#000';
  ctx.font = `${Math.round(Math.min(w, h) / 12)}px sans-serif`;
  ctx.textAlign = 'center';
  ctx.fillText(`${w}×${h} · ${frame}`, w / 2, h / 2);
}

class TestPatternConnection implements DesktopConnection {
  state: ConnectionState = 'connecting';
  private timer: ReturnType<typeof setInterval> | undefined;
  private frame = 0;

  constructor(
    private readonly size: { width: number; height: number },
    private readonly events: ConnectionEvents,
  ) {}

  start(): Promise<void> {
    const canvas = document.createElement('canvas');
    canvas.width = this.size.width;
    canvas.height = this.size.height;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    drawPattern(ctx, canvas.width, canvas.height, this.frame);
    this.timer = setInterval(() => drawPattern(ctx, canvas.width, canvas.height, ++this.frame), 100);
    this.events.onStream(canvas.captureStream(10));
    window.__portholeSent = [];
    window.__portholeDeliver = (json) =>
      this.events.onHelperMessage(parseDataChannelText(json, parseHelperToViewer));
    this.state = 'connected';
    this.events.onState('connected');
    const { width, height } = this.size;
    this.events.onHelperMessage({
      type: 'displays',
      current: 0,
      displays: [
        { index: 0, name: 'TEST-1', x: 0, y: 0, width, height, primary: true },
        { index: 1, name: 'TEST-2', x: width, y: 0, width: 1024, height: 768, primary: false },
      ],
    });
    return Promise.resolve();
  }

  stop(): Promise<void> {
    clearInterval(this.timer);
    this.state = 'closed';
    this.events.onState('closed');
    return Promise.resolve();
  }

  sendInput(msg: InputMessage): void {
    window.__portholeSent?.push({ channel: 'input', ...msg });
  }

  sendChat(text: string): boolean {
    window.__portholeSent?.push({ channel: 'chat', type: 'message', text });
    return true;
  }

  sendControl(msg: ControlMessage): void {
    window.__portholeSent?.push({ channel: 'control', ...msg });
  }

  /** Figures shaped like Chromium's, derived from the pattern's frame counter, so the overlay shows. */
  stats(): Promise<Iterable<StatsEntry>> {
    const { width, height } = this.size;
    return Promise.resolve([
      {
        id: 'IT01V',
        type: 'inbound-rtp',
        kind: 'video',
        timestamp: performance.now(),
        framesDecoded: this.frame,
        bytesReceived: this.frame * 25_000,
        framesDropped: 0,
        packetsLost: 0,
        frameWidth: width,
        frameHeight: height,
      },
    ]);
  }
}

export function testConnectionFactory(size: { width: number; height: number }): ConnectionFactory {
  return (_target: ConnectionTarget, events: ConnectionEvents) => new TestPatternConnection(size, events);
}
