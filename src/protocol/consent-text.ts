/**
 * What a consent prompt says, the same on every platform (the service shows it on Windows, the helper
 * on X11, so it lives where both meet): who asks and for what. The viewer's name is
 * the API's token name: shown without control or format characters and shortened, so a name cannot
 * forge extra lines in the prompt or push its question out of view.
 */
import type { ViewerPermissions } from './ipc.js';

export const CONSENT_TITLE = 'porthole: remote access request';
const MAX_SHOWN_NAME = 64;

/** The name as a prompt may show it. */
export function shownViewerName(name: string): string {
  const clean = name
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const short = [...clean];
  const shown = short.length > MAX_SHOWN_NAME ? `${short.slice(0, MAX_SHOWN_NAME - 1).join('')}…` : clean;
  return shown === '' ? 'a remote viewer' : shown;
}

/** "view this screen", "view and control this screen", "… and transfer files". */
export function askedActions(asks: ViewerPermissions): string {
  const screen = asks.control ? 'view and control this screen' : 'view this screen';
  return asks.files ? `${screen} and transfer files` : screen;
}

/** The question, e.g. "alice wants to view and control this screen. Allow?" */
export function consentQuestion(viewer: string, asks: ViewerPermissions, timeoutMs: number): string {
  const seconds = Math.round(timeoutMs / 1000);
  return (
    `${shownViewerName(viewer)} wants to ${askedActions(asks)}.\n\n` +
    `Allow? This question closes by itself after ${seconds} seconds.`
  );
}
