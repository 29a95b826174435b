/**
 * Clipboard both ways, as explicit user actions: "Paste to remote" reads the local clipboard when
 * the browser allows it (else offers a text box), and text the helper reports is shown with a Copy
 * button. Nothing touches the local clipboard on its own: a remote side must not write it unasked.
 */
import { el } from './dom.js';

export class ClipboardPanel {
  /** The paste box, shown when the clipboard cannot be read directly. */
  readonly pasteBox = el('form', { className: 'panel paste-panel', attrs: { id: 'paste-panel' } });
  /** The remote clipboard, shown when the helper sends one. */
  readonly remoteBox = el('div', { className: 'panel remote-clipboard', attrs: { id: 'remote-clipboard' } });
  private readonly pasteText = el('textarea', {
    attrs: {
      rows: '4',
      'aria-label': 'Text to paste to the remote clipboard',
      placeholder: 'Text for the remote clipboard',
    },
  });
  private readonly remoteText = el('pre', { className: 'clip-text' });
  private remoteValue = '';

  constructor(
    private readonly sendClipboard: (text: string) => boolean,
    private readonly notify: (text: string, kind?: 'info' | 'error') => void,
  ) {
    const send = el('button', { text: 'Send', attrs: { type: 'submit' } });
    const cancel = el('button', { text: 'Cancel', attrs: { type: 'button' } });
    this.pasteBox.append(
      el('label', { text: 'Paste to remote' }),
      this.pasteText,
      el('div', { className: 'row' }, [send, cancel]),
    );
    this.pasteBox.hidden = true;
    this.pasteBox.addEventListener('submit', (e) => {
      e.preventDefault();
      if (this.sendClipboard(this.pasteText.value)) {
        this.pasteText.value = '';
        this.pasteBox.hidden = true;
      }
    });
    cancel.addEventListener('click', () => (this.pasteBox.hidden = true));

    const copy = el('button', { text: 'Copy', attrs: { type: 'button', id: 'copy-remote-clipboard' } });
    const close = el('button', { text: 'Close', attrs: { type: 'button' } });
    this.remoteBox.append(
      el('label', { text: 'Remote clipboard' }),
      this.remoteText,
      el('div', { className: 'row' }, [copy, close]),
    );
    this.remoteBox.hidden = true;
    copy.addEventListener('click', () => void this.copyRemote());
    close.addEventListener('click', () => (this.remoteBox.hidden = true));
  }

  /** The toolbar's paste action. */
  async paste(): Promise<void> {
    try {
      const text = await navigator.clipboard.readText();
      if (this.sendClipboard(text)) this.notify('Clipboard sent to the remote desktop');
    } catch {
      // Not allowed (permission, insecure context, or a webview without the API): ask for the text.
      this.remoteBox.hidden = true;
      this.pasteBox.hidden = false;
      this.pasteText.focus();
    }
  }

  showRemote(text: string): void {
    this.remoteValue = text;
    const preview = text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
    this.remoteText.textContent = preview;
    this.pasteBox.hidden = true;
    this.remoteBox.hidden = false;
  }

  private async copyRemote(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.remoteValue);
      this.notify('Copied to the local clipboard');
      this.remoteBox.hidden = true;
    } catch {
      this.notify('The browser did not allow writing the clipboard; select the text and copy it', 'error');
    }
  }
}
