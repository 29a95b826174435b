/** The audio policy from porthole.json to the helper, and the viewer's `audio` control message. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/service/config.js';
import { parseServiceToHelper } from '../../src/protocol/ipc.js';
import { parseControlMessage, parseDataChannelText } from '../../src/protocol/datachannel.js';

const dir = mkdtempSync(join(tmpdir(), 'porthole-audio-cfg-'));
const file = (content: unknown): string => {
  const p = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, JSON.stringify(content));
  return p;
};

describe('audio policy', () => {
  it('is on by default, off with audio.enabled false, and a bad value names the field', () => {
    expect(loadServiceConfig({ env: {}, flags: {} }).audio).toEqual({ enabled: true });
    expect(
      loadServiceConfig({ file: file({ audio: { enabled: false } }), env: {}, flags: {} }).audio,
    ).toEqual({
      enabled: false,
    });
    expect(() => loadServiceConfig({ file: file({ audio: { enabled: 'no' } }), env: {}, flags: {} })).toThrow(
      /audio\.enabled/,
    );
    expect(() => loadServiceConfig({ file: file({ audio: { volume: 3 } }), env: {}, flags: {} })).toThrow(
      /audio\.volume/,
    );
  });

  it('desktop_start carries audio only as false', () => {
    const base = {
      type: 'desktop_start',
      sessionId: 'd1',
      offer: 'v=0\r\n',
      iceServers: [],
      displayIndex: 0,
    };
    expect(parseServiceToHelper({ ...base, audio: false })).toMatchObject({ audio: false });
    expect(() => parseServiceToHelper({ ...base, audio: true })).toThrow(/audio/);
  });
});

describe('the viewer’s audio control message', () => {
  it('accepts on and off, and nothing else', () => {
    expect(parseDataChannelText('{"type":"audio","state":"off"}', parseControlMessage)).toEqual({
      type: 'audio',
      state: 'off',
    });
    expect(() => parseControlMessage({ type: 'audio', state: 'loud' })).toThrow(/state/);
    expect(() => parseControlMessage({ type: 'audio' })).toThrow(/state/);
    expect(() => parseControlMessage({ type: 'audio', state: 'on', volume: 1 })).toThrow(/volume/);
  });
});
