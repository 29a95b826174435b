/**
 * The top bar's controls, grouped so the bar wraps between groups (never inside one) when narrow.
 * Only builds and exposes elements; app.ts decides what they do.
 */
import { el, toggleButton } from './dom.js';

export class TopBar {
  readonly root = el('header', { className: 'bar', attrs: { id: 'bar' } });
  readonly device = el('select', { attrs: { id: 'device', 'aria-label': 'Device' } });
  readonly session = el('select', { attrs: { id: 'session', 'aria-label': 'Session' } });
  readonly refresh = el('button', {
    text: '↻',
    attrs: { id: 'refresh', type: 'button', title: 'Refresh devices and sessions', 'aria-label': 'Refresh' },
  });
  readonly connect = el('button', {
    text: 'Connect',
    className: 'primary',
    attrs: { id: 'connect', type: 'button' },
  });
  readonly display = el('select', { attrs: { id: 'display', 'aria-label': 'Display' } });
  readonly ctrlAltDel = el('button', { text: 'Ctrl+Alt+Del', attrs: { id: 'ctrl-alt-del', type: 'button' } });
  readonly viewOnly = toggleButton('View only', false, 'view-only');
  readonly captureKeys = toggleButton('Capture keys', true, 'capture-keys');
  readonly paste = el('button', { text: 'Paste to remote', attrs: { id: 'paste', type: 'button' } });
  readonly stats = toggleButton('Stats', false, 'stats-toggle');
  readonly files = el('button', { text: 'Files', attrs: { id: 'files-toggle', type: 'button' } });
  readonly chat = el('button', { text: 'Chat', attrs: { id: 'chat-toggle', type: 'button' } });
  /** Shown for a view-only sign-in: the machine refuses this viewer's input and files. */
  readonly viewOnlyBadge = el('span', {
    text: 'View only',
    className: 'badge view-only-badge',
    attrs: {
      id: 'view-only-badge',
      hidden: '',
      title: 'This sign-in may watch, not control: the remote machine refuses its input and files',
    },
  });
  readonly status = el('span', { className: 'status', attrs: { id: 'status', role: 'status' } });
  readonly signOut = el('button', { text: 'Sign out', attrs: { id: 'sign-out', type: 'button' } });

  constructor() {
    this.captureKeys.title =
      'Send every key, browser shortcuts included, to the remote desktop while it has focus';
    this.root.append(
      el('div', { className: 'group' }, [this.device, this.session, this.refresh, this.connect]),
      el('div', { className: 'group' }, [this.display, this.ctrlAltDel]),
      el('div', { className: 'group' }, [
        this.viewOnly,
        this.captureKeys,
        this.paste,
        this.files,
        this.chat,
        this.stats,
      ]),
      el('div', { className: 'group end' }, [this.viewOnlyBadge, this.status, this.signOut]),
    );
    this.setConnected(false);
  }

  #connected = false;
  #viewOnly = false;
  /** The sign-in is view-only: View only stays on, and what needs control stays off. */
  #viewOnlyLogin = false;

  /** Controls that only make sense with a desktop open. */
  setConnected(connected: boolean): void {
    this.#connected = connected;
    this.connect.textContent = connected ? 'Disconnect' : 'Connect';
    this.connect.classList.toggle('primary', !connected);
    for (const c of [this.display, this.paste, this.files, this.chat]) c.disabled = !connected;
    this.#inputControls();
  }

  /** A view-only sign-in (the login answer said so): View only is on for good. */
  lockViewOnly(): void {
    this.#viewOnlyLogin = true;
    this.viewOnly.setAttribute('aria-pressed', 'true');
    this.viewOnly.disabled = true;
    this.viewOnly.title = 'This sign-in is view-only: the remote machine refuses its input and files';
    this.viewOnlyBadge.hidden = false;
    this.setViewOnly(true);
  }

  get viewOnlyLogin(): boolean {
    return this.#viewOnlyLogin;
  }

  /** View only sends no input, and Ctrl+Alt+Del is input. */
  setViewOnly(on: boolean): void {
    this.#viewOnly = on;
    this.#inputControls();
  }

  #inputControls(): void {
    this.ctrlAltDel.disabled = !this.#connected || this.#viewOnly;
    // The helper refuses a view-only viewer's input and files channels: nothing to offer.
    if (this.#viewOnlyLogin) for (const c of [this.paste, this.files]) c.disabled = true;
  }

  /** The Sound toggle and volume slider (audio-output.ts), in the group with Stats. */
  addSoundControls(toggle: HTMLButtonElement, volume: HTMLInputElement): void {
    this.stats.before(toggle, volume);
  }

  setStatus(text: string, kind: 'info' | 'busy' | 'error' | 'ok' = 'info'): void {
    this.status.textContent = text;
    this.status.dataset.kind = kind;
  }
}
