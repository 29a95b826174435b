/**
 * Turns two RTCPeerConnection.getStats() snapshots into what the stats overlay shows. Works on plain
 * records (an RTCStatsReport's values), so it is tested without a browser.
 */

export type StatsEntry = Record<string, unknown> & { type?: unknown; id?: unknown };

export interface StatsSample {
  /** Milliseconds, from the inbound-rtp entry's timestamp. */
  at: number;
  framesDecoded: number;
  framesPerSecond: number | undefined;
  bytesReceived: number;
  framesDropped: number;
  packetsLost: number;
  width: number | undefined;
  height: number | undefined;
  rttSeconds: number | undefined;
  /** The audio inbound-rtp entry, when the desktop carries sound. */
  audio?: AudioSample;
}

export interface AudioSample {
  at: number;
  bytesReceived: number;
  /** Seconds, summed over every sample the jitter buffer emitted (the W3C stats' definition). */
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
}

export interface StatsView {
  fps: number | undefined;
  bitrateKbps: number | undefined;
  rttMs: number | undefined;
  framesDropped: number;
  packetsLost: number;
  resolution: string | undefined;
  /** Absent: no audio track. */
  audio?: { bitrateKbps: number | undefined; jitterBufferMs: number | undefined };
}

const numberOf = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

/** Picks the video inbound-rtp entry and the selected candidate pair's round-trip time. */
export function sampleFromStats(entries: Iterable<StatsEntry>): StatsSample | undefined {
  const all = [...entries];
  const byId = new Map(all.map((e) => [e.id, e]));
  const video = all.find((e) => e.type === 'inbound-rtp' && (e.kind ?? e.mediaType) === 'video');
  if (!video) return undefined;

  const transport = all.find((e) => e.type === 'transport' && typeof e.selectedCandidatePairId === 'string');
  const pair =
    (transport && byId.get(transport.selectedCandidatePairId)) ??
    all.find((e) => e.type === 'candidate-pair' && e.nominated === true && e.state === 'succeeded');

  const audio = all.find((e) => e.type === 'inbound-rtp' && (e.kind ?? e.mediaType) === 'audio');
  return {
    ...(audio
      ? {
          audio: {
            at: numberOf(audio.timestamp) ?? 0,
            bytesReceived: numberOf(audio.bytesReceived) ?? 0,
            jitterBufferDelay: numberOf(audio.jitterBufferDelay) ?? 0,
            jitterBufferEmittedCount: numberOf(audio.jitterBufferEmittedCount) ?? 0,
          },
        }
      : {}),
    at: numberOf(video.timestamp) ?? 0,
    framesDecoded: numberOf(video.framesDecoded) ?? 0,
    framesPerSecond: numberOf(video.framesPerSecond),
    bytesReceived: numberOf(video.bytesReceived) ?? 0,
    framesDropped: numberOf(video.framesDropped) ?? 0,
    packetsLost: numberOf(video.packetsLost) ?? 0,
    width: numberOf(video.frameWidth),
    height: numberOf(video.frameHeight),
    rttSeconds: pair ? numberOf(pair.currentRoundTripTime) : undefined,
  };
}

/**
 * Rates over the interval between two samples. Without a usable previous sample (the first one, or
 * counters that went backwards because a reconnect made a new peer connection) only the browser's
 * own framesPerSecond and the totals are shown.
 */
export function statsView(prev: StatsSample | undefined, cur: StatsSample): StatsView {
  const seconds = prev ? (cur.at - prev.at) / 1000 : 0;
  const usable =
    prev !== undefined &&
    seconds > 0 &&
    cur.framesDecoded >= prev.framesDecoded &&
    cur.bytesReceived >= prev.bytesReceived;
  return {
    fps: usable ? (cur.framesDecoded - prev.framesDecoded) / seconds : cur.framesPerSecond,
    bitrateKbps: usable ? ((cur.bytesReceived - prev.bytesReceived) * 8) / seconds / 1000 : undefined,
    rttMs: cur.rttSeconds === undefined ? undefined : cur.rttSeconds * 1000,
    framesDropped: cur.framesDropped,
    packetsLost: cur.packetsLost,
    resolution: cur.width && cur.height ? `${cur.width}×${cur.height}` : undefined,
    ...(cur.audio ? { audio: audioView(prev?.audio, cur.audio) } : {}),
  };
}

/**
 * Audio bitrate over the interval, and the jitter buffer's delay: the average wait of the samples it
 * emitted during the interval (over the whole call for the first sample). Nothing emitted (silence
 * that was not sent) leaves the delay unknown rather than zero.
 */
function audioView(prev: AudioSample | undefined, cur: AudioSample): NonNullable<StatsView['audio']> {
  const seconds = prev ? (cur.at - prev.at) / 1000 : 0;
  const usable =
    prev !== undefined &&
    seconds > 0 &&
    cur.bytesReceived >= prev.bytesReceived &&
    cur.jitterBufferEmittedCount >= prev.jitterBufferEmittedCount;
  const emitted = usable
    ? cur.jitterBufferEmittedCount - prev.jitterBufferEmittedCount
    : cur.jitterBufferEmittedCount;
  const delay = usable ? cur.jitterBufferDelay - prev.jitterBufferDelay : cur.jitterBufferDelay;
  return {
    bitrateKbps: usable ? ((cur.bytesReceived - prev.bytesReceived) * 8) / seconds / 1000 : undefined,
    jitterBufferMs: emitted > 0 ? (delay / emitted) * 1000 : undefined,
  };
}

/** Overlay lines; a dash where the browser has not reported the figure yet. */
export function formatStats(v: StatsView): string[] {
  const dash = '–';
  const bitrate =
    v.bitrateKbps === undefined
      ? dash
      : v.bitrateKbps >= 1000
        ? `${(v.bitrateKbps / 1000).toFixed(1)} Mbit/s`
        : `${Math.round(v.bitrateKbps)} kbit/s`;
  return [
    `fps ${v.fps === undefined ? dash : v.fps.toFixed(0)}`,
    `bitrate ${bitrate}`,
    `rtt ${v.rttMs === undefined ? dash : `${Math.round(v.rttMs)} ms`}`,
    `dropped ${v.framesDropped}`,
    `lost ${v.packetsLost}`,
    `size ${v.resolution ?? dash}`,
    ...(v.audio
      ? [
          `audio ${v.audio.bitrateKbps === undefined ? dash : `${Math.round(v.audio.bitrateKbps)} kbit/s`}`,
          `audio buffer ${v.audio.jitterBufferMs === undefined ? dash : `${Math.round(v.audio.jitterBufferMs)} ms`}`,
        ]
      : []),
  ];
}
