/** A clipboard in memory: `copyInSession(text)` plays the part of an application copying text. */
import type { Clipboard } from './clipboard.js';

export interface FakeClipboard extends Clipboard {
  readonly text: string;
  copyInSession(text: string): void;
}

export function createFakeClipboard(): FakeClipboard {
  let text = '';
  const listeners = new Set<(t: string) => void>();
  return {
    get text() {
      return text;
    },
    write(t) {
      text = t;
      return Promise.resolve();
    },
    read() {
      return Promise.resolve(text);
    },
    onChange(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    copyInSession(t) {
      text = t;
      for (const cb of listeners) cb(t);
    },
    close() {
      listeners.clear();
    },
  };
}
