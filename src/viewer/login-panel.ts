/** The sign-in card: server address (blank = this origin) and a token; shown until signed in. */
import { el } from './dom.js';

export class LoginPanel {
  readonly root = el('form', { className: 'login', attrs: { id: 'login' } });
  readonly server = el('input', {
    attrs: {
      id: 'login-server',
      type: 'url',
      placeholder: 'same origin',
      autocomplete: 'url',
      spellcheck: 'false',
    },
  });
  readonly token = el('input', {
    attrs: { id: 'login-token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: '' },
  });
  private readonly submit = el('button', {
    text: 'Sign in',
    className: 'primary',
    attrs: { type: 'submit', id: 'login-submit' },
  });
  private readonly error = el('p', { className: 'error', attrs: { id: 'login-error', role: 'alert' } });

  constructor(onSubmit: (server: string, token: string) => Promise<void>) {
    this.root.append(
      el('h1', { text: 'porthole' }),
      el('label', { text: 'Server' }, [this.server]),
      el('label', { text: 'Access token' }, [this.token]),
      this.submit,
      this.error,
    );
    this.root.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit.disabled = true;
      this.setError('');
      onSubmit(this.server.value, this.token.value)
        .catch((err: unknown) => this.setError(err instanceof Error ? err.message : String(err)))
        .finally(() => (this.submit.disabled = false));
    });
  }

  show(server: string, error = ''): void {
    this.server.value = server;
    this.token.value = '';
    this.setError(error);
    this.root.hidden = false;
    this.token.focus();
  }

  hide(): void {
    this.root.hidden = true;
  }

  setError(text: string): void {
    this.error.textContent = text;
    this.error.hidden = !text;
  }
}
