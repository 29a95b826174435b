/** A tiny element builder: the viewer has no framework, and no innerHTML (nothing parsed from strings). */

export interface ElementProps {
  className?: string;
  text?: string;
  attrs?: Record<string, string>;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElementProps = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [k, v] of Object.entries(props.attrs ?? {})) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

/** Replaces a select's options; keeps the selection when the same value is still offered. */
export function setOptions(select: HTMLSelectElement, options: { value: string; label: string }[]): void {
  const previous = select.value;
  select.replaceChildren(...options.map((o) => el('option', { text: o.label, attrs: { value: o.value } })));
  if (options.some((o) => o.value === previous)) select.value = previous;
}

/** A toggle button: state lives in aria-pressed, so CSS and screen readers read the same thing. */
export function toggleButton(label: string, pressed: boolean, id: string): HTMLButtonElement {
  const b = el('button', { text: label, className: 'toggle', attrs: { id, type: 'button' } });
  b.setAttribute('aria-pressed', String(pressed));
  return b;
}

export function isPressed(b: HTMLButtonElement): boolean {
  return b.getAttribute('aria-pressed') === 'true';
}

export function setPressed(b: HTMLButtonElement, pressed: boolean): void {
  b.setAttribute('aria-pressed', String(pressed));
}
