/** The strongest frequency of an s16le stereo frame (left channel), by a Goertzel scan over 50 Hz steps. */
export function dominantFrequency(pcm: Buffer, rate = 48_000): number {
  const n = Math.floor(pcm.length / 4);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = pcm.readInt16LE(i * 4);
  let best = 0;
  let bestPower = -1;
  for (let f = 100; f <= 8000; f += 50) {
    const w = (2 * Math.PI * f) / rate;
    const c = 2 * Math.cos(w);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const s0 = x[i]! + c * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const power = s1 * s1 + s2 * s2 - c * s1 * s2;
    if (power > bestPower) {
      bestPower = power;
      best = f;
    }
  }
  return best;
}
