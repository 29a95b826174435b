/**
 * For the viewer's browser tests: builds dist/viewer, serves it with the API's CSP next to a stub of
 * the API routes (JSON fixtures, requests recorded), and launches headless Chromium on a fresh
 * profile. The real API is exercised end to end elsewhere; this stub only follows its contract.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { buildViewer } from '../../scripts/build-viewer.js';

/** The CSP the API serves the viewer with (and the Tauri shell's). */
export const VIEWER_CSP =
  "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; style-src 'self'";

export interface ApiRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

export interface StubReply {
  status?: number;
  body: unknown;
}

export type StubRoute = (req: ApiRequest) => StubReply | Promise<StubReply>;

export interface ViewerServer {
  url: string;
  requests: ApiRequest[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

/** The fixtures every viewer test starts from: one online device with two sessions, one offline. */
export const SESSION_TOKEN = 'session-token-1';
export const ONE_TIME_TOKEN = 'one-time-1';

export function defaultRoutes(): Record<string, StubRoute> {
  const authed =
    (body: unknown): StubRoute =>
    (req) =>
      req.authorization === `Bearer ${SESSION_TOKEN}`
        ? { body }
        : { status: 401, body: { error: { code: 'unauthorized', message: 'Sign in again' } } };
  return {
    'POST /api/login': (req) =>
      (req.body as { token?: string }).token === ONE_TIME_TOKEN
        ? { body: { token: SESSION_TOKEN, name: 'demo', expiresAt: '2099-01-01T00:00:00Z' } }
        : { status: 401, body: { error: { code: 'unauthorized', message: 'Unknown or used token' } } },
    'GET /api/devices': authed({
      devices: [
        { id: 'dev-1', name: 'office-desktop', online: true, lastSeen: '2025-01-01T00:00:00Z' },
        { id: 'dev-2', name: 'old-laptop', online: false },
      ],
    }),
    'GET /api/devices/dev-1/sessions': authed({
      sessions: [
        {
          sessionId: 1,
          username: 'alice',
          state: 'active',
          type: 'console',
          helperConnected: true,
          helperState: 'ready',
        },
        {
          sessionId: 2,
          username: 'bob',
          state: 'active',
          type: 'rdp',
          helperConnected: false,
          helperState: 'none',
        },
      ],
    }),
    'GET /api/ice-servers': authed({ iceServers: [] }),
  };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** Builds the viewer into a temp dir and serves it plus `routes` on 127.0.0.1. */
export async function startViewerServer(
  routes: Record<string, StubRoute> = defaultRoutes(),
): Promise<ViewerServer> {
  const dir = await mkdtemp(join(tmpdir(), 'porthole-viewer-'));
  await buildViewer(dir);
  const requests: ApiRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname.startsWith('/api/')) {
        const request: ApiRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          authorization: req.headers.authorization,
          body: await readBody(req),
        };
        requests.push(request);
        const route = routes[`${request.method} ${request.path}`];
        const reply = route
          ? await route(request)
          : { status: 404, body: { error: { code: 'not_found', message: `no route ${request.path}` } } };
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply.body));
        return;
      }
      const file = normalize(url.pathname === '/' ? '/index.html' : url.pathname);
      try {
        const data = await readFile(join(dir, file));
        res.writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          'content-security-policy': VIEWER_CSP,
        });
        res.end(data);
      } catch {
        res.writeHead(404).end();
      }
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Browser {
  context: BrowserContext;
  /** Messages the page printed to its console or threw, so a CSP violation fails a test visibly. */
  problems: string[];
  close(): Promise<void>;
}

/**
 * `executablePath` runs another Chromium (the network bench's wrapper that starts it in the viewer's
 * network namespace); `args` are added to the defaults.
 */
export async function launchChromium(
  opts: { executablePath?: string; args?: string[]; env?: Record<string, string> } = {},
): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'porthole-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: opts.executablePath ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(opts.args ?? []),
    ],
    viewport: { width: 1366, height: 768 },
    ...(opts.env ? { env: opts.env } : {}),
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const problems: string[] = [];
  context.on('page', (page) => {
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
  });
  return {
    context,
    problems,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
