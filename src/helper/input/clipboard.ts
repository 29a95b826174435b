/**
 * The session's clipboard, both ways: the viewer's copies are put on it, and copies made in the
 * session are sent to the viewer. One interface; X11 (xclip plus an XFIXES watch), Windows (to come)
 * and a fake.
 */
export interface Clipboard {
  /** Makes `text` the session's clipboard content. */
  write(text: string): Promise<void>;
  /** The session's clipboard as text ('' when empty or not text). */
  read(): Promise<string>;
  /**
   * Called with the new text whenever something in the session copies text. Text this object wrote
   * itself is not reported back.
   */
  onChange(cb: (text: string) => void): () => void;
  close(): void;
}
