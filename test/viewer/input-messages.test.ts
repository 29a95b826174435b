import { describe, expect, it } from 'vitest';
import {
  MAX_CLIPBOARD_TEXT,
  parseControlMessage,
  parseInputMessage,
} from '../../src/protocol/datachannel.js';
import {
  HeldInput,
  MAX_TEXT_CHUNK,
  controlMessage,
  inputMessage,
  isSendableCode,
  pointerButtonFor,
} from '../../src/viewer/input-messages.js';

/** Round-trips through JSON and the helper's own validator: what the helper would accept. */
const acceptedInput = (m: unknown): unknown => parseInputMessage(JSON.parse(JSON.stringify(m)));

describe('input messages', () => {
  it('maps MouseEvent.button 0..4 to left, middle, right, back, forward and nothing else', () => {
    expect([0, 1, 2, 3, 4].map(pointerButtonFor)).toEqual(['left', 'middle', 'right', 'back', 'forward']);
    expect(pointerButtonFor(5)).toBeUndefined();
    expect(pointerButtonFor(-1)).toBeUndefined();
  });

  it('builds messages the helper validator accepts unchanged', () => {
    const msgs = [
      inputMessage.move({ x: 0.25, y: 1 }),
      inputMessage.button('right', true, { x: 0, y: 0.5 }),
      inputMessage.button('left', false),
      inputMessage.wheel(-120, 240),
      inputMessage.key('KeyA', true),
      inputMessage.clipboard('héllo\nwörld'),
      ...inputMessage.text('日本語'),
    ];
    for (const m of msgs) expect(acceptedInput(m)).toEqual(m);
    for (const m of [
      controlMessage.ctrlAltDel(),
      controlMessage.selectDisplay(1),
      controlMessage.keyframe(),
    ]) {
      expect(parseControlMessage(JSON.parse(JSON.stringify(m)))).toEqual(m);
    }
  });

  it('a button message without a position carries no x or y fields at all', () => {
    expect(Object.keys(inputMessage.button('middle', false))).toEqual(['type', 'button', 'down']);
  });

  it('splits long text into protocol-sized pieces without cutting a surrogate pair', () => {
    const text = `${'a'.repeat(MAX_TEXT_CHUNK - 1)}😀tail`;
    const parts = inputMessage.text(text);
    expect(parts).toHaveLength(2);
    for (const p of parts) acceptedInput(p);
    expect(parts.map((p) => (p.type === 'text' ? p.text : '')).join('')).toBe(text);
    expect(inputMessage.text('')).toEqual([]);
  });

  it('refuses clipboard text beyond the protocol limit', () => {
    expect(inputMessage.clipboard('x'.repeat(MAX_CLIPBOARD_TEXT + 1))).toBeUndefined();
  });

  it('sends only codes the protocol accepts', () => {
    expect(isSendableCode('KeyA')).toBe(true);
    expect(isSendableCode('NumpadEnter')).toBe(true);
    expect(isSendableCode('')).toBe(false);
    expect(isSendableCode('Unidentified')).toBe(false);
    expect(isSendableCode('Key-A')).toBe(false);
  });
});

describe('HeldInput', () => {
  it('releases every held key and button, once', () => {
    const held = new HeldInput();
    held.keyDown('ControlLeft');
    held.keyDown('KeyC');
    held.buttonDown('left', { x: 0.5, y: 0.5 });
    const releases = held.releaseAll();
    expect(releases).toEqual(
      expect.arrayContaining([
        { type: 'pointer_button', button: 'left', down: false },
        { type: 'key', code: 'ControlLeft', down: false },
        { type: 'key', code: 'KeyC', down: false },
      ]),
    );
    expect(releases).toHaveLength(3);
    expect(held.releaseAll()).toEqual([]);
  });

  it('sends auto-repeat downs but a single up', () => {
    const held = new HeldInput();
    expect(held.keyDown('ArrowDown')).toEqual({ type: 'key', code: 'ArrowDown', down: true });
    expect(held.keyDown('ArrowDown')).toEqual({ type: 'key', code: 'ArrowDown', down: true });
    expect(held.keyUp('ArrowDown')).toEqual({ type: 'key', code: 'ArrowDown', down: false });
    expect(held.keyUp('ArrowDown')).toBeUndefined();
  });

  it('sends no release for a button it never pressed (a press on the bars)', () => {
    const held = new HeldInput();
    expect(held.buttonUp('left', { x: 0, y: 0 })).toBeUndefined();
    expect(held.buttonDown('left', { x: 0.1, y: 0.2 })).toEqual({
      type: 'pointer_button',
      button: 'left',
      down: true,
      x: 0.1,
      y: 0.2,
    });
    expect(held.buttonDown('left', { x: 0.1, y: 0.2 })).toBeUndefined();
    expect(held.anyButtonDown).toBe(true);
    expect(held.buttonUp('left')).toEqual({ type: 'pointer_button', button: 'left', down: false });
    expect(held.anyButtonDown).toBe(false);
  });
});
