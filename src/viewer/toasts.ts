/** Short messages at the bottom of the stage: helper errors, API errors, clipboard results. */
import { el } from './dom.js';

const SHOW_MS = 6000;
const MAX_VISIBLE = 4;

export class Toasts {
  readonly root = el('div', { className: 'toasts', attrs: { role: 'status', 'aria-live': 'polite' } });

  show(text: string, kind: 'info' | 'error' = 'info'): void {
    const toast = el('div', { className: `toast ${kind}`, text });
    this.root.append(toast);
    while (this.root.childElementCount > MAX_VISIBLE) this.root.firstElementChild?.remove();
    setTimeout(() => toast.remove(), SHOW_MS);
  }
}
