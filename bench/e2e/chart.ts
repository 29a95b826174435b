/**
 * The latency chart: cumulative distributions (share of frames displayed within x ms) as one SVG,
 * which the benchmark renders to PNG in Chromium. Pure string building, so it is testable.
 */

export interface ChartSeries {
  label: string;
  colour: string;
  dashed?: boolean;
  values: readonly number[];
}

export interface ChartOptions {
  width?: number;
  height?: number;
  title?: string;
  /** Upper end of the x axis in ms; default: the largest p99 of the series, rounded up to 25 ms. */
  maxMs?: number;
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The points of a CDF: for the sorted sample, (value, (i + 1) / n). */
export function cdfPoints(values: readonly number[]): [number, number][] {
  const sorted = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.map((v, i) => [v, (i + 1) / sorted.length]);
}

export function latencyChartSvg(series: readonly ChartSeries[], opts: ChartOptions = {}): string {
  const W = opts.width ?? 900;
  const H = opts.height ?? 520;
  const left = 60;
  const right = 300;
  const top = 40;
  const bottom = 50;
  const pw = W - left - right;
  const ph = H - top - bottom;
  const p99 = (v: readonly number[]): number => {
    const s = [...v].filter(Number.isFinite).sort((a, b) => a - b);
    return s[Math.max(0, Math.ceil(0.99 * s.length) - 1)] ?? 0;
  };
  const maxMs =
    opts.maxMs ?? Math.max(25, Math.ceil(Math.max(0, ...series.map((s) => p99(s.values))) / 25) * 25);
  const x = (ms: number): number => left + (Math.min(Math.max(ms, 0), maxMs) / maxMs) * pw;
  const y = (share: number): number => top + (1 - share) * ph;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
  ];
  if (opts.title)
    parts.push(`<text x="${left}" y="24" font-size="15" font-weight="bold">${esc(opts.title)}</text>`);
  const step = maxMs <= 100 ? 10 : maxMs <= 250 ? 25 : maxMs <= 500 ? 50 : 100;
  for (let ms = 0; ms <= maxMs; ms += step) {
    parts.push(
      `<line x1="${x(ms).toFixed(1)}" y1="${top}" x2="${x(ms).toFixed(1)}" y2="${top + ph}" stroke="#e4e4e4"/>`,
      `<text x="${x(ms).toFixed(1)}" y="${top + ph + 16}" text-anchor="middle">${ms}</text>`,
    );
  }
  for (let q = 0; q <= 4; q++) {
    const share = q / 4;
    parts.push(
      `<line x1="${left}" y1="${y(share).toFixed(1)}" x2="${left + pw}" y2="${y(share).toFixed(1)}" stroke="#e4e4e4"/>`,
      `<text x="${left - 6}" y="${(y(share) + 4).toFixed(1)}" text-anchor="end">${Math.round(share * 100)} %</text>`,
    );
  }
  parts.push(
    `<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    `<text x="${left + pw / 2}" y="${H - 12}" text-anchor="middle">screen change → displayed (ms)</text>`,
    `<text x="16" y="${top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${top + ph / 2})">frames displayed within</text>`,
  );
  series.forEach((s, i) => {
    const pts = cdfPoints(s.values);
    if (pts.length > 0) {
      const d = [[pts[0]![0], 0] as [number, number], ...pts]
        .map(([v, share], j) => `${j === 0 ? 'M' : 'L'}${x(v).toFixed(1)},${y(share).toFixed(1)}`)
        .join(' ');
      parts.push(
        `<path d="${d}" fill="none" stroke="${esc(s.colour)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
    }
    const ly = top + 8 + i * 20;
    parts.push(
      `<line x1="${left + pw + 14}" y1="${ly}" x2="${left + pw + 40}" y2="${ly}" stroke="${esc(s.colour)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${left + pw + 46}" y="${ly + 4}">${esc(s.label)} (n=${pts.length})</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
