import { describe, expect, it } from 'vitest';
import { PortholeError } from '../../../src/errors/porthole-error.js';
import { WebRtcDesktopHost } from '../../../src/helper/host/webrtc-desktop-host.js';
import { channelAllowed, controlAllowed } from '../../../src/helper/webrtc/channel-permissions.js';
import type { ChannelLabel } from '../../../src/helper/webrtc/desktop-peer.js';
import { silentLogger } from '../../../src/log/logger.js';
import { FULL_CONTROL, VIEW_ONLY, type ViewerPermissions } from '../../../src/protocol/ipc.js';

const LABELS: ChannelLabel[] = ['input', 'control', 'cursor', 'files'];
const allowed = (p: ViewerPermissions | undefined) => LABELS.filter((l) => channelAllowed(l, p));

describe('channelAllowed', () => {
  it('opens every channel to a viewer without permissions (an older API: full control)', () => {
    expect(allowed(undefined)).toEqual(LABELS);
    expect(allowed(FULL_CONTROL)).toEqual(LABELS);
    expect(controlAllowed(undefined)).toBe(true);
  });

  it('refuses input and files to a view-only viewer, keeping control and cursor (watching)', () => {
    expect(allowed(VIEW_ONLY)).toEqual(['control', 'cursor']);
    expect(controlAllowed(VIEW_ONLY)).toBe(false);
  });

  it('takes each permission on its own', () => {
    expect(allowed({ control: true, files: false })).toEqual(['input', 'control', 'cursor']);
    expect(allowed({ control: false, files: true })).toEqual(['control', 'cursor', 'files']);
  });
});

describe('WebRtcDesktopHost hands the peer the permissions of desktop_start', () => {
  it('asks channelAllowed with this request’s permissions, per desktop', async () => {
    const checks = new Map<string, (label: ChannelLabel) => boolean>();
    const host = new WebRtcDesktopHost({
      log: silentLogger,
      probe: () => Promise.resolve({ canCapture: true, displays: [] }),
      attach: () => ({ close: () => {} }),
      createPeer: (opts) => {
        checks.set(opts.offer, opts.allowChannel ?? (() => true));
        // Nothing more is needed of the peer here: stop before attaching.
        return Promise.reject(new PortholeError('bad_request', 'stop here'));
      },
    });
    const base = { type: 'desktop_start' as const, iceServers: [], displayIndex: 0 };
    await host.start({ ...base, sessionId: 'desk-a', offer: 'a', permissions: VIEW_ONLY }).catch(() => {});
    await host.start({ ...base, sessionId: 'desk-b', offer: 'b' }).catch(() => {});
    expect(LABELS.filter((l) => checks.get('a')?.(l))).toEqual(['control', 'cursor']);
    expect(LABELS.filter((l) => checks.get('b')?.(l))).toEqual(LABELS);
  });
});
