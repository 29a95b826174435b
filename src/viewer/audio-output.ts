/**
 * The remote session's sound: an <audio> element fed by the desktop's audio track, a Sound toggle and
 * a volume slider.
 *
 * Browsers let a page play sound only after the person has interacted with it (autoplay rules), so the
 * element starts muted and is unmuted by the first click or key press anywhere in the page, unless the
 * person has turned Sound off. Turning it off also tells the machine to stop sending it (`audio off`),
 * which stops the capture there when nobody else listens; turning it on again asks for it back.
 */
import { el, isPressed, setPressed, toggleButton } from './dom.js';

export class AudioOutput {
  readonly element = el('audio', { attrs: { id: 'remote-audio' } });
  readonly toggle = toggleButton('Sound', true, 'sound');
  readonly volume = el('input', {
    attrs: {
      id: 'volume',
      type: 'range',
      min: '0',
      max: '100',
      value: '80',
      'aria-label': 'Volume',
      title: 'Volume of the remote sound',
    },
  });
  /** The person's choice; Sound is on until they turn it off. */
  private wanted = true;
  /** The page has had a click or key press: the browser lets it play sound. */
  private activated = false;

  constructor(
    private readonly onWantedChange: (on: boolean) => void,
    root: Pick<Document, 'addEventListener' | 'removeEventListener'> = document,
  ) {
    this.element.autoplay = true;
    this.element.muted = true;
    this.element.hidden = true;
    this.element.volume = 0.8;
    this.toggle.title = 'Remote sound (plays once you click in the page: browsers block sound until then)';
    const activate = (): void => {
      root.removeEventListener('pointerdown', activate, true);
      root.removeEventListener('keydown', activate, true);
      this.activated = true;
      this.apply();
    };
    root.addEventListener('pointerdown', activate, true);
    root.addEventListener('keydown', activate, true);
    this.toggle.addEventListener('click', () => {
      // Pressing the toggle is itself an interaction: it may unmute at once.
      this.activated = true;
      this.wanted = !isPressed(this.toggle);
      setPressed(this.toggle, this.wanted);
      this.apply();
      this.onWantedChange(this.wanted);
    });
    this.volume.addEventListener('input', () => {
      this.element.volume = Number(this.volume.value) / 100;
    });
    this.setAvailable(false);
  }

  /** Whether sound is wanted by the person (the state to tell a new connection). */
  get on(): boolean {
    return this.wanted;
  }

  /** The desktop's audio stream (a new one after each reconnect). */
  attach(stream: MediaStream): void {
    this.element.srcObject = stream;
    this.setAvailable(true);
    this.apply();
  }

  /** No desktop, or the machine sends no sound (turned off there). */
  clear(reason?: string): void {
    this.element.srcObject = null;
    this.setAvailable(false, reason);
  }

  setAvailable(available: boolean, reason?: string): void {
    this.toggle.disabled = !available;
    this.volume.disabled = !available;
    if (reason) this.toggle.title = reason;
  }

  private apply(): void {
    this.element.muted = !(this.wanted && this.activated);
    if (this.element.srcObject && !this.element.muted) {
      void this.element.play().catch(() => undefined);
    }
  }
}
