/**
 * The Files panel: send files (picker, or drop them on the video) and browse the remote roots to
 * download, each transfer with a progress bar and a Cancel button. The browser saves a download only
 * once its SHA-256 matched (file-transfers.ts).
 */
import type { FileEntry } from '../protocol/files.js';
import { el } from './dom.js';
import type { Transfer, ViewerFileTransfers } from './file-transfers.js';

export class FilesPanel {
  readonly root = el('section', {
    className: 'panel files-panel',
    attrs: { id: 'files-panel', 'aria-label': 'Files' },
  });
  private readonly picker = el('input', {
    attrs: { type: 'file', multiple: '', id: 'file-pick', hidden: '' },
  });
  private readonly crumbs = el('div', { className: 'crumbs', attrs: { id: 'files-path' } });
  private readonly listing = el('ul', { className: 'listing', attrs: { id: 'files-listing' } });
  private readonly transfers = el('ul', { className: 'transfers', attrs: { id: 'files-transfers' } });
  private readonly rows = new Map<number, HTMLLIElement>();
  private files: ViewerFileTransfers | undefined;
  private roots: string[] = [];
  private root0 = 0;
  private path: string[] = [];
  /** A view-only sign-in: the machine refuses its files channel, so nothing is offered or dropped. */
  private refusal: string | undefined;

  constructor(private readonly notify: (text: string, kind?: 'info' | 'error') => void) {
    const send = el('button', { text: 'Send files…', attrs: { type: 'button', id: 'files-send' } });
    const close = el('button', { text: 'Close', attrs: { type: 'button' } });
    this.root.append(
      el('div', { className: 'row' }, [el('label', { text: 'Files' }), send, close]),
      this.picker,
      this.crumbs,
      this.listing,
      this.transfers,
    );
    this.root.hidden = true;
    send.addEventListener('click', () => this.picker.click());
    close.addEventListener('click', () => (this.root.hidden = true));
    this.picker.addEventListener('change', () => {
      for (const f of this.picker.files ?? []) this.send(f);
      this.picker.value = '';
    });
  }

  /** A view-only sign-in: files are neither picked nor dropped (the helper would refuse them anyway). */
  refuse(reason: string): void {
    this.refusal = reason;
    this.root.hidden = true;
  }

  /** Drops on the video send the dropped files. */
  acceptDrops(target: HTMLElement): void {
    target.addEventListener('dragover', (e) => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    });
    target.addEventListener('drop', (e) => {
      const files = e.dataTransfer?.files;
      if (!files?.length) return;
      e.preventDefault();
      if (this.refusal !== undefined) return this.notify(this.refusal, 'error');
      this.root.hidden = false;
      for (const f of files) this.send(f);
    });
  }

  attach(files: ViewerFileTransfers | undefined): void {
    this.files = files;
    this.listing.replaceChildren();
    this.crumbs.replaceChildren();
  }

  toggle(): void {
    if (this.refusal !== undefined) return;
    this.root.hidden = !this.root.hidden;
    // Opening the panel lists the folder again: it may have changed on the remote side.
    if (!this.root.hidden) void this.browse(this.root0, this.path);
  }

  onRoots(roots: string[]): void {
    this.roots = roots;
    this.path = [];
    if (!this.root.hidden) void this.browse(0, []);
  }

  onChange(t: Transfer): void {
    let row = this.rows.get(t.id);
    if (!row) {
      row = el('li', { attrs: { 'data-transfer': String(t.id) } });
      this.rows.set(t.id, row);
      this.transfers.prepend(row);
    }
    const arrow = t.direction === 'upload' ? '↑' : '↓';
    const bar = el('progress', { attrs: { max: String(Math.max(1, t.size)), value: String(t.done) } });
    const state = el('span', { className: 'state', text: t.state + (t.message ? `: ${t.message}` : '') });
    const children: Node[] = [el('span', { className: 'name', text: `${arrow} ${t.name}` }), bar, state];
    if (!['complete', 'failed', 'cancelled'].includes(t.state)) {
      const cancel = el('button', { text: 'Cancel', className: 'cancel', attrs: { type: 'button' } });
      cancel.addEventListener('click', () => this.files?.cancel(t.id));
      children.push(cancel);
    }
    row.dataset.state = t.state;
    row.replaceChildren(...children);
    if (t.state === 'complete' && t.direction === 'upload') this.notify(`Sent ${t.name}`);
    if (t.state === 'failed') this.notify(`${t.name}: ${t.message ?? 'failed'}`, 'error');
  }

  /** Hands a verified download to the browser's own download. */
  save(t: Transfer, blob: Blob): void {
    const url = URL.createObjectURL(blob);
    const a = el('a', { attrs: { href: url, download: t.name } });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  private send(file: File): void {
    if (this.refusal !== undefined) return this.notify(this.refusal, 'error');
    if (!this.files) return this.notify('Connect to a desktop first', 'error');
    this.files.upload(file, file.name);
  }

  private async browse(root: number, path: string[]): Promise<void> {
    if (!this.files) return;
    let result: { entries: FileEntry[]; truncated: boolean };
    try {
      result = await this.files.list(root, path);
    } catch (err) {
      this.notify(`Cannot list that folder: ${(err as Error).message}`, 'error');
      return;
    }
    this.root0 = root;
    this.path = path;
    const crumb = (label: string, to: string[]): HTMLButtonElement => {
      const b = el('button', { text: label, attrs: { type: 'button', className: 'crumb' } });
      b.addEventListener('click', () => void this.browse(root, to));
      return b;
    };
    this.crumbs.replaceChildren(
      crumb(this.roots[root] ?? 'Home', []),
      ...path.map((p, i) => crumb(p, path.slice(0, i + 1))),
    );
    const items = result.entries.map((e) => {
      const b = el('button', {
        text: `${e.kind === 'dir' ? '📁' : e.kind === 'link' ? '↪' : '📄'} ${e.name}`,
        attrs: { type: 'button', 'data-name': e.name, 'data-kind': e.kind },
      });
      const size = el('span', { className: 'size', text: e.kind === 'file' ? formatBytes(e.size) : '' });
      // A link is tried as a folder first: the helper refuses it when it leads out of the roots.
      b.addEventListener('click', () => {
        if (e.kind === 'file') this.files?.download(root, [...path, e.name]);
        else void this.browse(root, [...path, e.name]);
      });
      return el('li', {}, [b, size]);
    });
    if (result.truncated) items.push(el('li', { className: 'more', text: '(more entries not shown)' }));
    this.listing.replaceChildren(...items);
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
