/**
 * Quoting for a Windows command line as the C runtime (and Node) splits it again: every argument in
 * double quotes, backslashes doubled only where they precede a quote. A path with spaces or quotes
 * can then never be read as two arguments or as a different program.
 */
export function quoteWindowsArg(arg: string): string {
  if (arg.includes('\0')) throw new TypeError('an argument cannot contain NUL');
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      backslashes++;
      continue;
    }
    if (ch === '"') out += '\\'.repeat(backslashes * 2 + 1) + '"';
    else out += '\\'.repeat(backslashes) + ch;
    backslashes = 0;
  }
  return out + '\\'.repeat(backslashes * 2) + '"';
}

export function windowsCommandLine(argv: string[]): string {
  return argv.map(quoteWindowsArg).join(' ');
}
