/**
 * The helper's end of the Windows indicator (win32-indicator.ts) is a child process speaking JSON lines;
 * here the child is a stand-in Node script, so the protocol and the process's life are tested on Linux.
 * The window itself runs under Wine (test/win32/indicator-window.test.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWin32Indicator } from '../../../src/helper/presence/win32-indicator.js';
import { waitFor } from '../../fixtures/wait-for.js';

const dir = mkdtempSync(join(tmpdir(), 'porthole-indicator-'));
/** Records its argv and each stdin line to `log`, answers `press X` lines with a button event. */
const standIn = join(dir, 'stand-in.mjs');
writeFileSync(
  standIn,
  `import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
const log = process.env.STAND_IN_LOG;
appendFileSync(log, JSON.stringify({ argv: process.argv.slice(2) }) + '\\n');
process.stdout.write(JSON.stringify({ event: 'ready', affinity: 'exclude' }) + '\\n');
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  appendFileSync(log, line + '\\n');
  const text = JSON.parse(line).text;
  if (text === 'press disconnect') process.stdout.write('{"event":"disconnect"}\\n');
  if (text === 'press chat') process.stdout.write('garbage\\n{"event":"chat"}\\n');
  if (JSON.parse(line).openChat) process.stdout.write(JSON.stringify({ event: 'reply', text: 'yes, go ahead' }) + '\\n');
});
rl.on('close', () => { appendFileSync(log, 'stdin closed\\n'); process.exit(0); });
`,
);

function recorder() {
  const lines: string[] = [];
  return {
    lines,
    log: {
      info: (_o: object, m: string) => lines.push(`info ${m}`),
      warn: (_o: object, m: string) => lines.push(`warn ${m}`),
    },
  };
}

describe('openWin32Indicator (the child process protocol)', () => {
  it('sends the text as JSON lines, maps the buttons pressed, and ends the child by closing stdin', async () => {
    const logFile = join(dir, 'run-1.log');
    process.env.STAND_IN_LOG = logFile;
    const pressed: string[] = [];
    const replies: string[] = [];
    const rec = recorder();
    const ind = openWin32Indicator(
      'alice is viewing this screen',
      { disconnect: () => pressed.push('disconnect'), chat: () => pressed.push('chat') },
      { log: rec.log, command: [process.execPath, standIn], onReply: (t) => replies.push(t) },
    );
    ind.setText('press disconnect');
    ind.setText('press chat');
    await waitFor(() => pressed.length === 2, { what: 'both buttons' });
    expect(pressed).toEqual(['disconnect', 'chat']);
    ind.chatLine('alice: can you see my pointer?');
    ind.openChat();
    await waitFor(() => replies.length === 1, { what: 'the answer typed in the chat window' });
    expect(replies).toEqual(['yes, go ahead']);
    expect(ind.closed).toBe(false);
    expect(rec.lines).toContain('info being-viewed indicator shown');
    ind.close();
    ind.setText('after close'); // ignored
    const { readFileSync } = await import('node:fs');
    await waitFor(() => readFileSync(logFile, 'utf8').includes('stdin closed'), {
      what: 'the child told to end',
    });
    const seen = readFileSync(logFile, 'utf8').trim().split('\n');
    expect(seen).toEqual([
      JSON.stringify({ argv: ['indicator-window'] }),
      JSON.stringify({ text: 'alice is viewing this screen' }),
      JSON.stringify({ text: 'press disconnect' }),
      JSON.stringify({ text: 'press chat' }),
      JSON.stringify({ chatLine: 'alice: can you see my pointer?' }),
      JSON.stringify({ openChat: true }),
      'stdin closed',
    ]);
    expect(rec.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
  });

  it('logs a child that ends on its own, and one that cannot start', async () => {
    const early = recorder();
    const ended = openWin32Indicator(
      'x',
      { disconnect: () => {}, chat: () => {} },
      {
        log: early.log,
        command: [process.execPath, '-e', 'process.exit(3)'],
      },
    );
    await waitFor(() => early.lines.includes('warn indicator window process ended early'), {
      what: 'the warning',
    });
    // Its chat window went with it: chat lines are then answered `unavailable` (presence/index.ts).
    expect(ended.closed).toBe(true);
    const missing = recorder();
    const failed = openWin32Indicator(
      'x',
      { disconnect: () => {}, chat: () => {} },
      {
        log: missing.log,
        command: ['/nonexistent/porthole'],
      },
    );
    await waitFor(() => missing.lines.includes('warn indicator window process failed'), {
      what: 'the failure',
    });
    expect(failed.closed).toBe(true);
  });
});
