/** The bit rate actually sent to one viewer over a span of time, from the bytes handed to it. */
export class SendRate {
  private sent: { atMs: number; bytes: number }[] = [];
  private firstAt: number | undefined;

  constructor(private readonly historyMs: number) {}

  /** Records media bytes sent at `atMs`; non-finite or negative values are ignored. */
  add(bytes: number, atMs: number): void {
    if (!Number.isFinite(bytes) || bytes < 0 || !Number.isFinite(atMs)) return;
    this.firstAt ??= atMs;
    this.sent.push({ atMs, bytes });
    while (this.sent[0]!.atMs < atMs - this.historyMs) this.sent.shift();
  }

  /**
   * Bits per second sent in (fromMs, toMs]; undefined if nothing was ever recorded (the sender is not
   * told, so the rate is unknown rather than zero). A span starting before the first send is counted
   * from the first send.
   */
  bps(fromMs: number, toMs: number): number | undefined {
    if (this.firstAt === undefined) return undefined;
    const from = Math.max(fromMs, this.firstAt);
    if (toMs - from <= 0) return undefined;
    let bytes = 0;
    for (const s of this.sent) if (s.atMs > fromMs && s.atMs <= toMs) bytes += s.bytes;
    return (bytes * 8 * 1000) / (toMs - from);
  }
}
