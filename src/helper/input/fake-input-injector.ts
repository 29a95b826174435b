/**
 * An injector that records what it was asked to do, for tests of the code that routes viewer messages
 * (and for platforms with no injector). It keeps held keys and buttons like a real one so releaseAll
 * can be checked.
 */
import type { PointerButton } from '../../protocol/datachannel.js';
import { toDesktopPoint, type DisplayRect, type InputInjector } from './input-injector.js';

export type InjectorCall =
  | { op: 'pointerMove'; rect: DisplayRect; x01: number; y01: number; at: { x: number; y: number } }
  | { op: 'button'; button: PointerButton; down: boolean }
  | { op: 'wheel'; dx: number; dy: number }
  | { op: 'key'; code: string; down: boolean }
  | { op: 'text'; text: string }
  | { op: 'releaseAll'; released: string[] }
  | { op: 'close' };

export interface FakeInputInjector extends InputInjector {
  readonly calls: InjectorCall[];
  /** Keys (by code) and buttons (as `button:left`) currently held. */
  readonly held: ReadonlySet<string>;
}

export function createFakeInputInjector(): FakeInputInjector {
  const calls: InjectorCall[] = [];
  const held = new Set<string>();
  return {
    calls,
    held,
    pointerMove(rect, x01, y01) {
      calls.push({ op: 'pointerMove', rect, x01, y01, at: toDesktopPoint(rect, x01, y01) });
    },
    button(button, down) {
      calls.push({ op: 'button', button, down });
      if (down) held.add(`button:${button}`);
      else held.delete(`button:${button}`);
    },
    wheel(dx, dy) {
      calls.push({ op: 'wheel', dx, dy });
    },
    key(code, down) {
      calls.push({ op: 'key', code, down });
      if (down) held.add(code);
      else held.delete(code);
    },
    text(text) {
      calls.push({ op: 'text', text });
    },
    releaseAll() {
      calls.push({ op: 'releaseAll', released: [...held].sort() });
      held.clear();
    },
    close() {
      calls.push({ op: 'close' });
    },
  };
}
