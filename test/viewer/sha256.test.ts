import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256 } from '../../src/viewer/sha256.js';

const node = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('the viewer SHA-256', () => {
  it.each([0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 100_003])('matches node:crypto for %i bytes', (n) => {
    const data = randomBytes(n);
    expect(new Sha256().update(data).hex()).toBe(node(data));
  });

  it('gives the same digest whatever the chunking', () => {
    const data = randomBytes(70_001);
    const h = new Sha256();
    for (let o = 0; o < data.length;) {
      const step = 1 + ((o * 31) % 200);
      h.update(data.subarray(o, o + step));
      o += step;
    }
    expect(h.hex()).toBe(node(data));
  });

  it('knows the empty string', () => {
    expect(new Sha256().hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
