/**
 * Entry point: sign in (fragment token, stored session token, or the sign-in card), then start the
 * viewer. `?test-video=WxH` swaps WebRTC for a generated test pattern (see test-connection.ts).
 */
import { ApiClient, ApiError, normaliseServer } from './api-client.js';
import { ViewerApp } from './app.js';
import {
  loginTokenFromHash,
  signIn,
  storedServer,
  storedToken,
  storedViewOnly,
  storeServer,
  storeToken,
} from './auth.js';
import type { ConnectionFactory } from './desktop-connection.js';
import { LoginPanel } from './login-panel.js';
import { testConnectionFactory, testVideoSize } from './test-connection.js';
import { WebRtcConnection } from './webrtc-connection.js';
import { FallbackConnection } from './fallback-connection.js';
import { RelayConnection } from './relay-connection.js';

function main(): void {
  let api = new ApiClient(storedServer(), storedToken());
  let app: ViewerApp | undefined;
  const testSize = testVideoSize(location.search);
  const factory: ConnectionFactory = testSize
    ? testConnectionFactory(testSize)
    : (target, events) =>
        new FallbackConnection(
          {
            hasWebRtc: typeof RTCPeerConnection === 'function',
            webrtc: (e) => new WebRtcConnection(api, target, e),
            relay: (e) => new RelayConnection(api, target, e),
          },
          events,
        );

  const login = new LoginPanel(async (serverInput, token) => {
    const server = normaliseServer(serverInput);
    storeServer(server);
    api = new ApiClient(server, undefined);
    await signIn(api, token.trim());
    await showApp();
  });
  login.hide();
  document.body.append(login.root);

  const showLogin = (error = ''): void => {
    storeToken(undefined);
    api.setToken(undefined);
    for (const e of app?.elements ?? []) e.remove();
    app = undefined;
    login.show(storedServer(), error);
  };

  const showApp = async (): Promise<void> => {
    login.hide();
    // The login answer said whether this sign-in is view-only (kept with the session token).
    app = new ViewerApp(api, factory, () => showLogin(), { viewOnly: storedViewOnly() });
    document.body.append(...app.elements);
    await app.start();
  };

  const fragmentToken = loginTokenFromHash(location.hash);
  if (fragmentToken) {
    // The one-time token must not stay in the address bar, the history or a bookmark.
    history.replaceState(null, '', location.pathname + location.search);
    signIn(api, fragmentToken)
      .then(showApp)
      .catch((err: unknown) => showLogin(err instanceof Error ? err.message : String(err)));
  } else if (api.hasToken) {
    // Check the stored token before showing anything: an expired one goes straight to sign-in.
    api
      .devices()
      .then(showApp)
      .catch((err: unknown) =>
        showLogin(err instanceof ApiError && err.status === 401 ? 'Your session has expired.' : String(err)),
      );
  } else {
    showLogin();
  }
}

main();
