/**
 * The Chat panel: the conversation with the person at the machine, both directions, and a line to
 * write in. Lines arrive validated (protocol/chat.ts); they are shown as text nodes, never parsed. A
 * line from the machine opens the panel if it was closed, so it is not missed.
 */
import { chatLine } from '../protocol/chat.js';
import { el } from './dom.js';

/** Lines kept in the panel: older ones drop off. */
const KEPT = 200;

export class ChatPanel {
  readonly root = el('section', {
    className: 'panel chat-panel',
    attrs: { id: 'chat-panel', 'aria-label': 'Chat' },
  });
  private readonly log = el('ol', {
    className: 'chat-log',
    attrs: { id: 'chat-log', 'aria-live': 'polite' },
  });
  private readonly input = el('input', {
    attrs: {
      id: 'chat-input',
      type: 'text',
      maxlength: '1000',
      autocomplete: 'off',
      'aria-label': 'Message to the person at the machine',
      placeholder: 'Message to the person at the machine',
    },
  });
  private readonly form = el('form', { className: 'row' });

  /** @param send sends one line; false when the chat channel is not open. */
  constructor(private readonly send: (text: string) => boolean) {
    const close = el('button', { text: 'Close', attrs: { type: 'button' } });
    const submit = el('button', { text: 'Send', attrs: { type: 'submit', id: 'chat-send' } });
    this.form.append(this.input, submit);
    this.root.append(
      el('div', { className: 'row' }, [el('label', { text: 'Chat with the person at the machine' }), close]),
      this.log,
      this.form,
    );
    this.root.hidden = true;
    close.addEventListener('click', () => (this.root.hidden = true));
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = chatLine(this.input.value);
      if (text === undefined) return;
      if (!this.send(text)) {
        this.add('notice', 'Not sent: the chat is not connected');
        return;
      }
      this.add('me', text);
      this.input.value = '';
    });
  }

  toggle(): void {
    this.root.hidden = !this.root.hidden;
    if (!this.root.hidden) this.input.focus();
  }

  /** A line the person at the machine wrote. */
  received(text: string): void {
    this.add('them', text);
    this.root.hidden = false;
  }

  /** A notice from the helper (rate limit, no chat window there). */
  notice(text: string): void {
    this.add('notice', text);
  }

  /** A new connection: the conversation of the previous one is kept, marked. */
  separator(text: string): void {
    if (this.log.childElementCount > 0) this.add('notice', text);
  }

  private add(who: 'me' | 'them' | 'notice', text: string): void {
    const label = who === 'me' ? 'You' : who === 'them' ? 'Remote' : '';
    const item = el('li', { className: `chat-${who}` }, [
      ...(label ? [el('span', { className: 'chat-who', text: `${label}: ` })] : []),
      text,
    ]);
    this.log.append(item);
    while (this.log.childElementCount > KEPT) this.log.firstElementChild?.remove();
    item.scrollIntoView?.({ block: 'end' });
  }
}
