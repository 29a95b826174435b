/**
 * Which DataChannels a viewer may open: the one place where the helper decides it, before a
 * channel's first message is read. A refused channel is closed at once, so a hand-written client that
 * opens it anyway gets nothing through it.
 *
 * The permissions come from the viewer's token, passed by the API in `start_desktop` and by the
 * service in `desktop_start` (absent: full control). A view-only viewer is refused `input` (pointer,
 * keys, text, clipboard) and `files`; Ctrl+Alt+Del, asked for on `control`, is refused too
 * (`controlAllowed`, which desktop-session.ts checks besides its rule that input needs an open `input`
 * channel). `control` (heartbeats, display choice, rate) and `cursor` are watching, open to all, and
 * so is `chat`: talking with the person at the machine, who sees every line and may ignore it.
 */
import { FULL_CONTROL, type ViewerPermissions } from '../../protocol/ipc.js';
import type { ChannelLabel } from './desktop-peer.js';

export function channelAllowed(label: ChannelLabel, permissions: ViewerPermissions | undefined): boolean {
  const p = permissions ?? FULL_CONTROL;
  switch (label) {
    case 'input':
      return p.control;
    case 'files':
      return p.files;
    // Talking to the person at the machine is not controlling it: a view-only viewer may chat.
    case 'chat':
    case 'control':
    case 'cursor':
      return true;
  }
}

/** Whether this viewer may send input at all (Ctrl+Alt+Del included). */
export function controlAllowed(permissions: ViewerPermissions | undefined): boolean {
  return (permissions ?? FULL_CONTROL).control;
}
