/**
 * The viewer names keys by KeyboardEvent.code (the physical key, US positions) and this table gives
 * the X keysym each one produces on a US layout without modifiers. The injector then finds the keycode
 * that carries that keysym in the session's current keymap, so a key lands where the user's layout
 * puts it. Values are from <X11/keysymdef.h> and <X11/XF86keysym.h>.
 */

const table: Record<string, number> = {
  Space: 0x20,
  Quote: 0x27,
  Comma: 0x2c,
  Minus: 0x2d,
  Period: 0x2e,
  Slash: 0x2f,
  Semicolon: 0x3b,
  Equal: 0x3d,
  BracketLeft: 0x5b,
  Backslash: 0x5c,
  BracketRight: 0x5d,
  Backquote: 0x60,
  IntlBackslash: 0x3c, // the extra key left of Z on ISO keyboards: '<' in the us(pc105) map
  IntlYen: 0xa5,
  IntlRo: 0x5c,

  Backspace: 0xff08,
  Tab: 0xff09,
  Enter: 0xff0d,
  Pause: 0xff13,
  ScrollLock: 0xff14,
  Escape: 0xff1b,
  Home: 0xff50,
  ArrowLeft: 0xff51,
  ArrowUp: 0xff52,
  ArrowRight: 0xff53,
  ArrowDown: 0xff54,
  PageUp: 0xff55,
  PageDown: 0xff56,
  End: 0xff57,
  PrintScreen: 0xff61,
  Insert: 0xff63,
  Undo: 0xff65,
  Again: 0xff66,
  ContextMenu: 0xff67,
  Find: 0xff68,
  Cancel: 0xff69,
  Help: 0xff6a,
  Delete: 0xffff,
  CapsLock: 0xffe5,
  NonConvert: 0xff22,
  Convert: 0xff23,
  KanaMode: 0xff27,
  Lang1: 0xff31,
  Lang2: 0xff34,

  ShiftLeft: 0xffe1,
  ShiftRight: 0xffe2,
  ControlLeft: 0xffe3,
  ControlRight: 0xffe4,
  AltLeft: 0xffe9,
  AltRight: 0xffea,
  MetaLeft: 0xffeb,
  MetaRight: 0xffec,
  // Older browsers' names for the Windows/Super keys.
  OSLeft: 0xffeb,
  OSRight: 0xffec,

  NumLock: 0xff7f,
  NumpadEnter: 0xff8d,
  NumpadMultiply: 0xffaa,
  NumpadAdd: 0xffab,
  NumpadComma: 0xffac,
  NumpadSubtract: 0xffad,
  NumpadDecimal: 0xffae,
  NumpadDivide: 0xffaf,
  NumpadEqual: 0xffbd,

  AudioVolumeDown: 0x1008ff11,
  AudioVolumeMute: 0x1008ff12,
  AudioVolumeUp: 0x1008ff13,
  VolumeDown: 0x1008ff11,
  VolumeMute: 0x1008ff12,
  VolumeUp: 0x1008ff13,
  MediaPlayPause: 0x1008ff14,
  MediaStop: 0x1008ff15,
  MediaTrackPrevious: 0x1008ff16,
  MediaTrackNext: 0x1008ff17,
  BrowserHome: 0x1008ff18,
  LaunchMail: 0x1008ff19,
  BrowserSearch: 0x1008ff1b,
  LaunchApp2: 0x1008ff1d,
  BrowserBack: 0x1008ff26,
  BrowserForward: 0x1008ff27,
  BrowserStop: 0x1008ff28,
  BrowserRefresh: 0x1008ff29,
  Power: 0x1008ff2a,
  WakeUp: 0x1008ff2b,
  Eject: 0x1008ff2c,
  Sleep: 0x1008ff2f,
  BrowserFavorites: 0x1008ff30,
  MediaSelect: 0x1008ff32,
  LaunchApp1: 0x1008ff33,
};

for (let i = 0; i < 26; i++) table[`Key${String.fromCharCode(65 + i)}`] = 0x61 + i;
for (let i = 0; i <= 9; i++) {
  table[`Digit${i}`] = 0x30 + i;
  table[`Numpad${i}`] = 0xffb0 + i;
}
// F1 is 0xffbe and the function keys run on contiguously to F35.
for (let i = 1; i <= 24; i++) table[`F${i}`] = 0xffbe + i - 1;

/** The keysym a KeyboardEvent.code produces on a US layout, or undefined for codes X has no keysym for. */
export function keysymForCode(code: string): number | undefined {
  return Object.hasOwn(table, code) ? table[code] : undefined;
}

/** All codes in the table (for tests and documentation). */
export const KNOWN_KEY_CODES: readonly string[] = Object.keys(table);

/** Keysym for one Unicode character (X: Latin-1 keysyms equal the code point, others 0x01000000+cp). */
export function keysymForChar(codePoint: number): number {
  if (codePoint === 0x0a || codePoint === 0x0d) return 0xff0d; // Return
  if (codePoint === 0x09) return 0xff09; // Tab
  if (codePoint === 0x08) return 0xff08; // BackSpace
  if ((codePoint >= 0x20 && codePoint <= 0x7e) || (codePoint >= 0xa0 && codePoint <= 0xff)) return codePoint;
  return 0x0100_0000 + codePoint;
}
