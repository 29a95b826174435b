/**
 * Builds the `input` and `control` messages exactly as src/protocol/datachannel.ts defines them, and
 * remembers what is held down so a lost focus never leaves a key or button stuck on the remote side.
 */
import type { ControlMessage, InputMessage, PointerButton } from '../protocol/datachannel.js';
import { MAX_CLIPBOARD_TEXT, MAX_TEXT } from '../protocol/datachannel.js';
import type { NormalisedPoint } from './content-rect.js';

/** MouseEvent.button → protocol button: 0 primary, 1 auxiliary, 2 secondary, 3 back, 4 forward. */
const BUTTONS: readonly PointerButton[] = ['left', 'middle', 'right', 'back', 'forward'];

export function pointerButtonFor(domButton: number): PointerButton | undefined {
  return BUTTONS[domButton];
}

/** What the protocol accepts as a KeyboardEvent.code; '' and "Unidentified"-like oddities are skipped. */
const CODE_PATTERN = /^[A-Za-z][A-Za-z0-9]{1,31}$/;
export function isSendableCode(code: string): boolean {
  return CODE_PATTERN.test(code) && code !== 'Unidentified';
}

/** The protocol caps one `text` message at 4096 characters (UTF-16 code units). */
export const MAX_TEXT_CHUNK = MAX_TEXT;

export const inputMessage = {
  move: (p: NormalisedPoint): InputMessage => ({ type: 'pointer_move', x: p.x, y: p.y }),
  button: (button: PointerButton, down: boolean, p?: NormalisedPoint): InputMessage =>
    p ? { type: 'pointer_button', button, down, x: p.x, y: p.y } : { type: 'pointer_button', button, down },
  wheel: (dx: number, dy: number): InputMessage => ({ type: 'wheel', dx, dy }),
  key: (code: string, down: boolean): InputMessage => ({ type: 'key', code, down }),
  /** Splits long text (an IME result, in practice short) into protocol-sized pieces on code points. */
  text(text: string): InputMessage[] {
    const out: InputMessage[] = [];
    let chunk = '';
    for (const ch of text) {
      if (chunk.length + ch.length > MAX_TEXT_CHUNK) {
        out.push({ type: 'text', text: chunk });
        chunk = '';
      }
      chunk += ch;
    }
    if (chunk) out.push({ type: 'text', text: chunk });
    return out;
  },
  /** Undefined when the text is beyond what the protocol carries: the caller tells the user. */
  clipboard: (text: string): InputMessage | undefined =>
    text.length <= MAX_CLIPBOARD_TEXT ? { type: 'clipboard', text } : undefined,
};

export const controlMessage = {
  ctrlAltDel: (): ControlMessage => ({ type: 'ctrl_alt_del' }),
  selectDisplay: (index: number): ControlMessage => ({ type: 'select_display', index }),
  keyframe: (): ControlMessage => ({ type: 'keyframe' }),
};

/**
 * Keys and buttons currently down on the remote side, as far as this viewer sent them. Releasing on
 * blur matters: the keyup of Alt in Alt+Tab goes to another window and the remote would keep Alt.
 */
export class HeldInput {
  private readonly keys = new Set<string>();
  private readonly buttons = new Set<PointerButton>();

  /**
   * An auto-repeat is sent as another down, as a physical keyboard's typematic repeat is: Windows
   * does not repeat injected keys by itself, so without these a held arrow key would move once.
   */
  keyDown(code: string): InputMessage {
    this.keys.add(code);
    return inputMessage.key(code, true);
  }

  /** Undefined for a key this viewer never pressed (e.g. held before the stage had focus). */
  keyUp(code: string): InputMessage | undefined {
    if (!this.keys.delete(code)) return undefined;
    return inputMessage.key(code, false);
  }

  buttonDown(button: PointerButton, p: NormalisedPoint): InputMessage | undefined {
    if (this.buttons.has(button)) return undefined;
    this.buttons.add(button);
    return inputMessage.button(button, true, p);
  }

  /** A release is sent even off the video (without a position) when the press was sent. */
  buttonUp(button: PointerButton, p?: NormalisedPoint): InputMessage | undefined {
    if (!this.buttons.delete(button)) return undefined;
    return inputMessage.button(button, false, p);
  }

  get anyButtonDown(): boolean {
    return this.buttons.size > 0;
  }

  /** Messages that release everything held, and forgets it all. */
  releaseAll(): InputMessage[] {
    const out: InputMessage[] = [];
    for (const button of this.buttons) out.push(inputMessage.button(button, false));
    for (const code of this.keys) out.push(inputMessage.key(code, false));
    this.buttons.clear();
    this.keys.clear();
    return out;
  }
}
