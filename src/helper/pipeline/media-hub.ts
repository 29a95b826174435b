/**
 * The helper's media: one capturer, one shared pipeline per (display, profile) in use, one cursor
 * poller per viewer. Each viewer gets a VideoSource view; viewers of the same display with the same
 * H.264 profile share one capture and one encode, whose rate they share too (see DisplayPipeline).
 */
import type { Capturer } from '../capture/capturer.js';
import type { CursorFeed, CursorMessage, EncodedAccessUnit, VideoSource } from '../desktop/video-source.js';
import {
  DisplayPipeline,
  type EncoderFactory,
  type PipelineSettings,
  type PipelineSubscription,
  type ViewerRate,
} from './display-pipeline.js';
import { createCursorFeed } from './cursor-feed.js';
import { type Logger } from '../../log/logger.js';
import { realTimers, type Timers } from '../../time/timers.js';

/** One viewer's view of the hub. */
export interface ViewerVideoSource extends VideoSource {
  /**
   * What this viewer's network path carries, from its congestion controller; `undefined` once the
   * path no longer limits it. The stream's bitrate is never above the least any viewer's path carries.
   */
  limitBitrate(bps: number | undefined): void;
}

export interface MediaHubDeps {
  /** The capture loops, keyframe retries and cursor polls run on these (tests: a FakeClock). */
  timers?: Timers;
  /** Tests: a fake encoder. */
  createEncoder?: EncoderFactory;
}

export class MediaHub {
  private readonly pipelines = new Map<string, DisplayPipeline>();

  constructor(
    readonly capturer: Capturer,
    private readonly settings: PipelineSettings,
    private readonly log: Pick<Logger, 'debug' | 'info' | 'warn'>,
    private readonly deps: MediaHubDeps = {},
  ) {}

  displays(): ReturnType<Capturer['displays']> {
    return this.capturer.displays();
  }

  /** A pipeline for one display and profile, created on first use. */
  pipeline(displayIndex: number, profileLevelId: string): DisplayPipeline {
    const key = `${displayIndex}:${profileLevelId}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = new DisplayPipeline(
        this.capturer,
        displayIndex,
        profileLevelId,
        this.settings,
        this.log,
        this.deps.timers,
        this.deps.createEncoder,
      );
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Closes a pipeline nobody watches any more. */
  async release(p: DisplayPipeline): Promise<void> {
    if (p.subscriberCount > 0) return;
    const key = `${p.displayIndex}:${p.profileLevelId}`;
    // Only its own entry: a later viewer may already have a new pipeline under the same key.
    if (this.pipelines.get(key) === p) this.pipelines.delete(key);
    await p.close();
  }

  /** A viewer's view of the hub: starts on `displayIndex` and can switch display later. */
  videoSource(displayIndex: number, profileLevelId: string): ViewerVideoSource {
    return new HubVideoSource(this, displayIndex, profileLevelId);
  }

  /** The cursor as seen relative to the display a viewer watches; its `close()` frees the cursor source. */
  cursorFeed(currentDisplay: () => number): CursorFeed {
    return createCursorFeed(this.capturer, currentDisplay, this.log, this.deps.timers ?? realTimers);
  }

  get activePipelines(): number {
    return this.pipelines.size;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pipelines.values()].map((p) => p.close()));
    this.pipelines.clear();
    this.capturer.close();
  }
}

class HubVideoSource implements ViewerVideoSource {
  private pipeline: DisplayPipeline;
  private subscription: PipelineSubscription | undefined;
  private readonly listeners = new Set<(unit: EncodedAccessUnit) => void>();
  private index: number;
  /** What the viewer asked for in its `rate` messages (each field kept until it asks again). */
  private asked: { fps?: number; bitrate?: number } = {};
  private pathBitrate: number | undefined;
  private closed = false;

  constructor(
    private readonly hub: MediaHub,
    displayIndex: number,
    private readonly profile: string,
  ) {
    this.index = displayIndex;
    this.pipeline = hub.pipeline(displayIndex, profile);
    try {
      this.attach();
    } catch (err) {
      // The display could not be opened: do not keep an empty pipeline in the hub.
      void hub.release(this.pipeline);
      throw err;
    }
  }

  get currentDisplay(): number {
    return this.index;
  }

  displays(): ReturnType<VideoSource['displays']> {
    return this.hub.displays();
  }

  onAccessUnit(cb: (unit: EncodedAccessUnit) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  requestKeyframe(): void {
    this.pipeline.requestKeyframe();
  }

  async setDisplay(index: number): Promise<void> {
    if (this.closed) return;
    if (index === this.index) return this.requestKeyframe();
    if (!this.hub.displays()[index]) throw new RangeError(`no display ${index}`);
    const old = { pipeline: this.pipeline, index: this.index };
    this.subscription?.unsubscribe();
    this.index = index;
    this.pipeline = this.hub.pipeline(index, this.profile);
    try {
      this.attach();
    } catch (err) {
      // The new display could not be opened: drop its pipeline and keep watching the old one.
      void this.hub.release(this.pipeline);
      ({ pipeline: this.pipeline, index: this.index } = old);
      this.attach();
      throw err;
    }
    await this.hub.release(old.pipeline);
  }

  setRate(rate: { bitrate?: number; fps?: number }): void {
    if (rate.fps) this.asked.fps = rate.fps;
    if (rate.bitrate) this.asked.bitrate = rate.bitrate;
    this.subscription?.setRate(this.rate());
  }

  limitBitrate(bps: number | undefined): void {
    this.pathBitrate = bps;
    this.subscription?.setRate(this.rate());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.listeners.clear();
    await this.hub.release(this.pipeline);
  }

  private rate(): ViewerRate {
    return { ...this.asked, pathBitrate: this.pathBitrate };
  }

  private attach(): void {
    this.subscription = this.pipeline.subscribe((unit) => {
      for (const l of this.listeners) l(unit);
    }, this.rate());
  }
}

export type { CursorMessage };
