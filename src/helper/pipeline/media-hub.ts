/**
 * The helper's media: one capturer, one shared pipeline per (display, profile) in use, one cursor
 * poller. Each viewer gets a VideoSource view; viewers of the same display with the same H.264 profile
 * share one capture and one encode.
 */
import type { Capturer } from '../capture/capturer.js';
import type { CursorFeed, CursorMessage, EncodedAccessUnit, VideoSource } from '../desktop/video-source.js';
import { DisplayPipeline, type PipelineSettings } from './display-pipeline.js';
import { createCursorFeed } from './cursor-feed.js';
import { type Logger } from '../../log/logger.js';

export class MediaHub {
  private readonly pipelines = new Map<string, DisplayPipeline>();

  constructor(
    readonly capturer: Capturer,
    private readonly settings: PipelineSettings,
    private readonly log: Pick<Logger, 'debug' | 'info' | 'warn'>,
  ) {}

  displays(): ReturnType<Capturer['displays']> {
    return this.capturer.displays();
  }

  /** A pipeline for one display and profile, created on first use. */
  pipeline(displayIndex: number, profileLevelId: string): DisplayPipeline {
    const key = `${displayIndex}:${profileLevelId}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = new DisplayPipeline(this.capturer, displayIndex, profileLevelId, this.settings, this.log);
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Closes a pipeline nobody watches any more. */
  async release(p: DisplayPipeline): Promise<void> {
    if (p.subscriberCount > 0) return;
    this.pipelines.delete(`${p.displayIndex}:${p.profileLevelId}`);
    await p.close();
  }

  /** A viewer's view of the hub: starts on `displayIndex` and can switch display later. */
  videoSource(displayIndex: number, profileLevelId: string): VideoSource {
    return new HubVideoSource(this, displayIndex, profileLevelId);
  }

  /** The cursor as seen relative to the display a viewer watches. */
  cursorFeed(currentDisplay: () => number): CursorFeed {
    return createCursorFeed(this.capturer, currentDisplay, this.log);
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

class HubVideoSource implements VideoSource {
  private pipeline: DisplayPipeline;
  private unsubscribe: () => void = () => {};
  private readonly listeners = new Set<(unit: EncodedAccessUnit) => void>();
  private index: number;

  constructor(
    private readonly hub: MediaHub,
    displayIndex: number,
    private readonly profile: string,
  ) {
    this.index = displayIndex;
    this.pipeline = hub.pipeline(displayIndex, profile);
    this.attach();
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
    if (index === this.index) return this.requestKeyframe();
    if (!this.hub.displays()[index]) throw new RangeError(`no display ${index}`);
    const old = this.pipeline;
    this.unsubscribe();
    this.index = index;
    this.pipeline = this.hub.pipeline(index, this.profile);
    this.attach();
    await this.hub.release(old);
  }

  setRate(rate: { bitrate?: number; fps?: number }): void {
    this.pipeline.setRate(rate);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.listeners.clear();
    await this.hub.release(this.pipeline);
  }

  private attach(): void {
    this.unsubscribe = this.pipeline.subscribe((unit) => {
      for (const l of this.listeners) l(unit);
    });
  }
}

export type { CursorMessage };
