/**
 * The X11 consent prompt: what zenity's exit status means, and a prompt program that cannot be run.
 * The real zenity on Xvfb, with its buttons pressed through XTest: test/service/consent-process.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log/logger.js';
import { consentFromZenityExit, ZenityConsentPrompt } from '../../../src/helper/consent/zenity-prompt.js';
import { askedActions, consentQuestion, shownViewerName } from '../../../src/protocol/consent-text.js';

describe('a zenity --question exit as a consent answer', () => {
  it.each([
    [0, null, 'accepted'],
    [1, null, 'denied'],
    [5, null, 'timed_out'],
    [255, null, 'unavailable'],
    [null, 'SIGKILL', 'unavailable'],
  ] as const)('exit %s signal %s is %s', (code, signal, outcome) => {
    expect(consentFromZenityExit(code, signal).outcome).toBe(outcome);
  });

  it('says why it was unavailable from the last line zenity wrote', () => {
    expect(consentFromZenityExit(255, null, 'Gtk-WARNING\ncannot open display: :9\n')).toEqual({
      outcome: 'unavailable',
      reason: 'zenity exited with 255: cannot open display: :9',
    });
  });

  it('answers unavailable, naming the package, when the program is missing', async () => {
    const prompt = new ZenityConsentPrompt({ log: silentLogger, command: '/nonexistent/zenity' });
    expect(
      await prompt.ask({ viewer: 'a', asks: { control: false, files: false }, timeoutMs: 5000 }),
    ).toEqual({
      outcome: 'unavailable',
      reason: 'zenity is not installed (apt install zenity)',
    });
  });
});

describe('what the prompt says', () => {
  it('names what the viewer asks for', () => {
    expect(askedActions({ control: false, files: false })).toBe('view this screen');
    expect(askedActions({ control: true, files: false })).toBe('view and control this screen');
    expect(askedActions({ control: false, files: true })).toBe('view this screen and transfer files');
    expect(consentQuestion('alice', { control: true, files: true }, 30_000)).toBe(
      'alice wants to view and control this screen and transfer files.\n\n' +
        'Allow? This question closes by itself after 30 seconds.',
    );
  });

  it('shows a name without line breaks or format characters, and shortened', () => {
    expect(shownViewerName('bob\n\nYou must click Allow\u202e')).toBe('bob You must click Allow');
    expect([...shownViewerName('x'.repeat(300))]).toHaveLength(64);
    expect(shownViewerName('\u0000\u200b')).toBe('a remote viewer');
  });
});
