/**
 * KeyboardEvent.code → PC/AT set-1 scancode, as SendInput's KEYEVENTF_SCANCODE takes it. Codes name
 * physical keys, and so do scancodes: the session's own layout turns them into characters, as it would
 * for a local keyboard. Values above 0xFF carry the 0xE0 prefix: those keys are sent with
 * KEYEVENTF_EXTENDEDKEY and the low byte.
 */
const LETTERS: Record<string, number> = {
  Q: 0x10, W: 0x11, E: 0x12, R: 0x13, T: 0x14, Y: 0x15, U: 0x16, I: 0x17, O: 0x18, P: 0x19,
  A: 0x1e, S: 0x1f, D: 0x20, F: 0x21, G: 0x22, H: 0x23, J: 0x24, K: 0x25, L: 0x26,
  Z: 0x2c, X: 0x2d, C: 0x2e, V: 0x2f, B: 0x30, N: 0x31, M: 0x32,
}; // prettier-ignore

const OTHERS: Record<string, number> = {
  Escape: 0x01, Minus: 0x0c, Equal: 0x0d, Backspace: 0x0e, Tab: 0x0f,
  BracketLeft: 0x1a, BracketRight: 0x1b, Enter: 0x1c, ControlLeft: 0x1d,
  Semicolon: 0x27, Quote: 0x28, Backquote: 0x29, ShiftLeft: 0x2a, Backslash: 0x2b,
  Comma: 0x33, Period: 0x34, Slash: 0x35, ShiftRight: 0x36, NumpadMultiply: 0x37,
  AltLeft: 0x38, Space: 0x39, CapsLock: 0x3a,
  Pause: 0x45, ScrollLock: 0x46,
  Numpad7: 0x47, Numpad8: 0x48, Numpad9: 0x49, NumpadSubtract: 0x4a,
  Numpad4: 0x4b, Numpad5: 0x4c, Numpad6: 0x4d, NumpadAdd: 0x4e,
  Numpad1: 0x4f, Numpad2: 0x50, Numpad3: 0x51, Numpad0: 0x52, NumpadDecimal: 0x53,
  IntlBackslash: 0x56, F11: 0x57, F12: 0x58, NumpadEqual: 0x59,
  KanaMode: 0x70, Lang2: 0x71, Lang1: 0x72, IntlRo: 0x73, Convert: 0x79, NonConvert: 0x7b,
  IntlYen: 0x7d, NumpadComma: 0x7e,
  // Extended (0xE0-prefixed) keys.
  MediaTrackPrevious: 0xe010, MediaTrackNext: 0xe019, NumpadEnter: 0xe01c, ControlRight: 0xe01d,
  AudioVolumeMute: 0xe020, MediaPlayPause: 0xe022, MediaStop: 0xe024,
  AudioVolumeDown: 0xe02e, AudioVolumeUp: 0xe030, BrowserHome: 0xe032,
  NumpadDivide: 0xe035, PrintScreen: 0xe037, AltRight: 0xe038, NumLock: 0xe045,
  Home: 0xe047, ArrowUp: 0xe048, PageUp: 0xe049, ArrowLeft: 0xe04b, ArrowRight: 0xe04d,
  End: 0xe04f, ArrowDown: 0xe050, PageDown: 0xe051, Insert: 0xe052, Delete: 0xe053,
  MetaLeft: 0xe05b, MetaRight: 0xe05c, ContextMenu: 0xe05d, Power: 0xe05e,
  BrowserSearch: 0xe065, BrowserFavorites: 0xe066, BrowserRefresh: 0xe067, BrowserStop: 0xe068,
  BrowserForward: 0xe069, BrowserBack: 0xe06a, LaunchApp1: 0xe06b, LaunchMail: 0xe06c,
  MediaSelect: 0xe06d,
}; // prettier-ignore

const TABLE = new Map<string, number>();
for (const [k, v] of Object.entries(LETTERS)) TABLE.set(`Key${k}`, v);
for (let d = 1; d <= 9; d += 1) TABLE.set(`Digit${d}`, 0x01 + d);
TABLE.set('Digit0', 0x0b);
for (let f = 1; f <= 10; f += 1) TABLE.set(`F${f}`, 0x3a + f);
for (let f = 13; f <= 23; f += 1) TABLE.set(`F${f}`, 0x64 + f - 13);
TABLE.set('F24', 0x76);
for (const [k, v] of Object.entries(OTHERS)) TABLE.set(k, v);

/** The scancode for a KeyboardEvent.code, split into SendInput's byte and extended flag. */
export function scancodeForCode(code: string): { scan: number; extended: boolean } | undefined {
  const v = TABLE.get(code);
  if (v === undefined) return undefined;
  return { scan: v & 0xff, extended: v > 0xff };
}
