/**
 * Which DataChannels a viewer may open: the one place where the helper decides it, before a
 * channel's first message is read. A refused channel is closed at once, so a hand-written client that
 * opens it anyway gets nothing through it.
 *
 * Today every viewer may open every channel: `desktop_start` does not carry permissions yet. When it
 * does (issue 17 §2, view-only tokens), a view-only viewer is refused `input` and `files` here (and
 * with `input`, Ctrl+Alt+Del, which desktop-session.ts already ties to an open input channel).
 */
import type { ViewerIdentity } from '../../protocol/ipc.js';
import type { ChannelLabel } from './desktop-peer.js';

export function channelAllowed(label: ChannelLabel, viewer: ViewerIdentity | undefined): boolean {
  void viewer; // the permissions will come with the viewer's identity
  switch (label) {
    case 'input':
    case 'files':
    case 'control':
    case 'cursor':
      return true;
  }
}
