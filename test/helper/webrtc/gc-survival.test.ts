import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('DesktopPeer under garbage collection', () => {
  it('keeps video and DataChannels alive through forced full GCs', async () => {
    const script = fileURLToPath(new URL('./gc-survival.script.ts', import.meta.url));
    const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', script], {
      timeout: 30_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(result).toEqual({ sent: 20, rtpAfterGc: 20, inputs: 20, state: 'connected' });
  });
});
