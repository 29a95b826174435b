/**
 * Turns DOM input over the stage into protocol messages: pointer moves coalesced to one per animation
 * frame, buttons and wheel only over the video's content rectangle (never the bars), keys by
 * KeyboardEvent.code while key capture is on, IME results as text, and a release of everything held
 * whenever the page loses focus.
 */
import type { InputMessage } from '../protocol/datachannel.js';
import { clampPoint, normalisePoint, type NormalisedPoint } from './content-rect.js';
import { HeldInput, inputMessage, isSendableCode, pointerButtonFor } from './input-messages.js';
import type { VideoStage } from './video-stage.js';
import { wheelToProtocol } from './wheel.js';

export interface InputPolicy {
  /** Connected and not view-only. */
  canSend(): boolean;
  /** Key capture toggle. */
  capturesKeys(): boolean;
  send(msg: InputMessage): void;
}

export class InputCapture {
  private readonly held = new HeldInput();
  private pendingMove: NormalisedPoint | undefined;
  private frameRequested = false;

  constructor(
    private readonly stage: VideoStage,
    private readonly policy: InputPolicy,
  ) {
    const root = stage.root;
    window.addEventListener('pointermove', (e) => this.onPointerMove(e));
    // Mouse (not pointer) events for buttons: pointerdown fires only for the first of chorded buttons.
    root.addEventListener('mousedown', (e) => this.onMouseDown(e));
    window.addEventListener('mouseup', (e) => this.onMouseUp(e));
    root.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    // The remote side owns right-click menus, middle-click paste and back/forward buttons.
    root.addEventListener('contextmenu', (e) => {
      if (this.overStageSurface(e)) e.preventDefault();
    });
    root.addEventListener('auxclick', (e) => {
      if (this.overStageSurface(e)) e.preventDefault();
    });
    stage.keySink.addEventListener('keydown', (e) => this.onKey(e, true));
    stage.keySink.addEventListener('keyup', (e) => this.onKey(e, false));
    stage.keySink.addEventListener('compositionend', (e) => this.onCompositionEnd(e));
    // With key capture off, typing lands in the sink; it must not pile up there.
    stage.keySink.addEventListener('input', (e) => {
      if (!(e as InputEvent).isComposing) stage.keySink.value = '';
    });
    stage.keySink.addEventListener('blur', () => this.releaseAll());
    window.addEventListener('blur', () => this.releaseAll());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.releaseAll();
    });
  }

  /** Sends releases for everything held (focus lost, view-only switched on, disconnect). */
  releaseAll(): void {
    const releases = this.held.releaseAll();
    if (this.policy.canSend()) for (const msg of releases) this.policy.send(msg);
  }

  /** Events on the video, the stage's bars or the cursor; not on panels or toasts laid over it. */
  private overStageSurface(e: Event): boolean {
    const t = e.target;
    return (
      t === this.stage.root ||
      t === this.stage.video ||
      t === this.stage.canvas ||
      t === this.stage.cursor.canvas ||
      t === this.stage.keySink
    );
  }

  private point(e: MouseEvent, clamped: boolean): NormalisedPoint | undefined {
    const rect = this.stage.clientContentRect();
    if (!rect) return undefined;
    return clamped ? clampPoint(rect, e.clientX, e.clientY) : normalisePoint(rect, e.clientX, e.clientY);
  }

  private onPointerMove(e: PointerEvent): void {
    if (!this.policy.canSend()) return;
    // While a button is held (a drag), moves outside the video still count, pinned to its edge.
    const dragging = this.held.anyButtonDown;
    if (!dragging && !this.overStageSurface(e)) return;
    const p = this.point(e, dragging);
    if (!p) return;
    this.pendingMove = p;
    if (!this.frameRequested) {
      this.frameRequested = true;
      requestAnimationFrame(() => {
        this.frameRequested = false;
        this.flushMove();
      });
    }
  }

  /** Sends the pending move now, so a click or wheel lands where the pointer is. */
  private flushMove(): void {
    const p = this.pendingMove;
    this.pendingMove = undefined;
    if (p && this.policy.canSend()) this.policy.send(inputMessage.move(p));
  }

  private onMouseDown(e: MouseEvent): void {
    if (!this.overStageSurface(e)) return;
    // Focus the key sink without scrolling, so the keyboard goes to the remote after a click.
    this.stage.keySink.focus({ preventScroll: true });
    e.preventDefault();
    if (!this.policy.canSend()) return;
    const button = pointerButtonFor(e.button);
    const p = this.point(e, false);
    if (!button || !p) return;
    this.flushMove();
    const msg = this.held.buttonDown(button, p);
    if (msg) this.policy.send(msg);
  }

  private onMouseUp(e: MouseEvent): void {
    const button = pointerButtonFor(e.button);
    if (!button || !this.policy.canSend()) return;
    const p = this.point(e, false);
    this.flushMove();
    const msg = this.held.buttonUp(button, p);
    if (msg) {
      // Stops the browser's own back/forward navigation for the extra buttons.
      e.preventDefault();
      this.policy.send(msg);
    }
  }

  private onWheel(e: WheelEvent): void {
    if (!this.overStageSurface(e) || !this.policy.canSend()) return;
    const p = this.point(e, false);
    if (!p) return;
    e.preventDefault();
    const delta = wheelToProtocol(e);
    if (!delta) return;
    this.pendingMove = p;
    this.flushMove();
    this.policy.send(inputMessage.wheel(delta.dx, delta.dy));
  }

  private onKey(e: KeyboardEvent, down: boolean): void {
    if (!this.policy.capturesKeys() || !this.policy.canSend()) return;
    // Keys that belong to an IME composition arrive as text at compositionend instead.
    if (e.isComposing || e.keyCode === 229) return;
    if (!isSendableCode(e.code)) return;
    e.preventDefault();
    const msg = down ? this.held.keyDown(e.code) : this.held.keyUp(e.code);
    if (msg) this.policy.send(msg);
  }

  private onCompositionEnd(e: CompositionEvent): void {
    this.stage.keySink.value = '';
    if (!e.data || !this.policy.capturesKeys() || !this.policy.canSend()) return;
    for (const msg of inputMessage.text(e.data)) this.policy.send(msg);
  }
}
