/**
 * CF_UNICODETEXT as bytes, both ways, without Win32: the clipboard's memory is untrusted ("Clipboard
 * data is not trusted. Parse the data carefully", GetClipboardData), so a read never goes past the
 * memory object's size (GlobalSize) even when the text has no terminating NUL, and stops at
 * `maxChars` UTF-16 units. Tested on Linux (test/helper/input/clipboard-text.test.ts).
 */

/**
 * The text in a CF_UNICODETEXT block: UTF-16LE up to the first NUL unit, or to the end of `bytes`
 * (the GlobalSize of the block; an odd last byte is ignored), cut at `maxChars` units without leaving
 * half a surrogate pair behind.
 */
export function decodeUnicodeText(bytes: Uint8Array, maxChars = Number.POSITIVE_INFINITY): string {
  const units = Math.floor(bytes.byteLength / 2);
  const limit = Math.min(units, maxChars);
  const view = new DataView(bytes.buffer, bytes.byteOffset, units * 2);
  let end = 0;
  while (end < limit && view.getUint16(end * 2, true) !== 0) end += 1;
  // Cut at maxChars between the halves of a surrogate pair: leave the high half out too.
  if (end > 0 && end === maxChars && end < units) {
    const last = view.getUint16((end - 1) * 2, true);
    const next = view.getUint16(end * 2, true);
    if (last >= 0xd800 && last <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) end -= 1;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, end * 2).toString('utf16le');
}

/**
 * `text` as CF_UNICODETEXT: UTF-16LE with a terminating NUL, and lines ending in CR-LF as the format
 * specifies (Standard Clipboard Formats); a CR-LF already there is kept.
 */
export function encodeUnicodeText(text: string): Buffer {
  return Buffer.from(`${text.replace(/\r?\n/g, '\r\n')}\0`, 'utf16le');
}
