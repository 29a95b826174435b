/** The stats overlay: polls getStats() once a second while shown and renders stats.ts's figures. */
import { el } from './dom.js';
import { formatStats, sampleFromStats, statsView, type StatsEntry, type StatsSample } from './stats.js';

export class StatsOverlay {
  readonly root = el('div', {
    className: 'stats',
    attrs: { id: 'stats', 'aria-label': 'Connection statistics' },
  });
  private timer: ReturnType<typeof setInterval> | undefined;
  private previous: StatsSample | undefined;

  constructor(private readonly source: () => Promise<Iterable<StatsEntry> | undefined>) {
    this.root.hidden = true;
  }

  get shown(): boolean {
    return !this.root.hidden;
  }

  setShown(shown: boolean): void {
    this.root.hidden = !shown;
    clearInterval(this.timer);
    this.timer = undefined;
    this.previous = undefined;
    if (!shown) return;
    this.render(['waiting for statistics…']);
    void this.poll();
    this.timer = setInterval(() => void this.poll(), 1000);
  }

  private async poll(): Promise<void> {
    let entries: Iterable<StatsEntry> | undefined;
    try {
      entries = await this.source();
    } catch {
      entries = undefined;
    }
    const sample = entries && sampleFromStats(entries);
    if (!sample) {
      this.previous = undefined;
      this.render(['no video statistics']);
      return;
    }
    this.render(formatStats(statsView(this.previous, sample)));
    this.previous = sample;
  }

  private render(lines: string[]): void {
    if (this.root.hidden) return;
    this.root.replaceChildren(...lines.map((line) => el('div', { text: line })));
  }
}
