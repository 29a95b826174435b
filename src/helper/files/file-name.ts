/**
 * Names of uploaded files. A name is refused, never rewritten into something the sender did not
 * choose: the viewer shows why. The Windows rules apply on every platform, so a name that lands in a
 * Linux home stays valid when the file is copied to a Windows share or a USB stick later.
 */
import { MAX_NAME_BYTES } from '../../protocol/files.js';
import { FileAccessError } from './file-access.js';

/** Windows' reserved device names, refused with or without an extension (`CON`, `con.txt`, `COM1.tar.gz`). */
const DEVICE = /^(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|CLOCK\$|COM[0-9¹²³]|LPT[0-9¹²³])$/i;
/** Characters Windows refuses in names (`:` would also name an NTFS alternate data stream). */
const RESERVED = /[<>:"/\\|?*]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Returns the name as it will be stored (NFC), or throws FileAccessError `bad_name` saying why. */
export function checkFileName(raw: string): string {
  const name = raw.normalize('NFC');
  const refuse = (why: string): never => {
    throw new FileAccessError('bad_name', `the name is not allowed: ${why}`);
  };
  if (name.length === 0) refuse('it is empty');
  if (name === '.' || name === '..') refuse('it names a folder, not a file');
  if (name.includes('/') || name.includes('\\')) refuse('it contains a path separator');
  if (CONTROL.test(name)) refuse('it contains a control character');
  if (name.includes(':')) refuse('it contains ":" (on Windows, an alternate data stream)');
  if (RESERVED.test(name)) refuse('it contains one of < > : " / \\ | ? *');
  if (/[. ]$/.test(name)) refuse('it ends with a dot or a space');
  // Windows compares the part before the first dot, trailing spaces ignored ("CON .txt" is CON).
  const stem = name.split('.')[0]!.replace(/ +$/, '');
  if (DEVICE.test(stem)) refuse(`"${stem}" is a Windows device name`);
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) refuse(`it is longer than ${MAX_NAME_BYTES} bytes`);
  return name;
}

/**
 * The n-th alternative to a name that exists: `report.pdf` → `report (1).pdf`; `.bashrc` → `.bashrc (1)`.
 * The stem is shortened (by whole code points) when the result would exceed MAX_NAME_BYTES.
 */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  const suffix = ` (${n})${ext}`;
  let chars = [...stem];
  while (chars.length > 0 && Buffer.byteLength(chars.join('') + suffix) > MAX_NAME_BYTES)
    chars = chars.slice(0, -1);
  return chars.join('') + suffix;
}

/** How many numbered alternatives are tried before the upload is refused as `busy`. */
export const MAX_NAME_ATTEMPTS = 1000;
