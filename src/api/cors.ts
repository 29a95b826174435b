/**
 * CORS for a viewer served from another origin (a Tauri app, a viewer on its own site), for exactly the
 * origins given with `--allow-origin`; without any the API sends no CORS header at all. The bearer token
 * travels in `Authorization`, never in a cookie, so no credentials mode is allowed and a listed origin
 * gains nothing a page without the token could use.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-json.js';

/** Methods and request headers the viewer API uses; a preflight is answered with exactly these. */
const ALLOW_METHODS = 'GET, POST, DELETE';
const ALLOW_HEADERS = 'authorization, content-type';
/** Response headers a cross-origin viewer may read beyond the CORS-safelisted ones. */
const EXPOSE_HEADERS = 'retry-after, www-authenticate';
/** How long a browser may cache a preflight answer (seconds). */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * Checks one `--allow-origin` value and returns it: a serialized origin `scheme://host[:port]`, as a
 * browser sends it in `Origin` (lower-case, no path, no trailing slash), e.g. `https://viewer.example.org`
 * or `tauri://localhost`. `*` and `null` are refused: the list names the origins trusted to drive the API.
 */
export function checkAllowedOrigin(value: string): string {
  const bad = (why: string) => new Error(`--allow-origin '${value.slice(0, 200)}': ${why}`);
  if (value === '*' || value === 'null') throw bad('name each origin; * and null are not allowed');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad('not an origin like https://viewer.example.org');
  }
  if (url.username || url.password || url.search || url.hash || !url.host) {
    throw bad('an origin is scheme://host[:port] only');
  }
  const origin = `${url.protocol}//${url.host}`;
  if (value !== origin) throw bad(`write it as a browser sends it: '${origin}'`);
  return origin;
}

/**
 * Adds the CORS headers for a listed `Origin` to an /api response, and answers a preflight (OPTIONS
 * with `Access-Control-Request-Method`) itself: 204 for a listed origin, 403 `origin_not_allowed`
 * otherwise. Returns true when the request has been answered. A non-preflight request from an unlisted
 * origin is served as before, without CORS headers (the browser then withholds the answer); the
 * same-origin viewer sends `Origin` on its POSTs too, so it must not be refused for it.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  if (allowed.size > 0) res.setHeader('vary', 'origin');
  const listed = typeof origin === 'string' && allowed.has(origin);
  if (listed) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', EXPOSE_HEADERS);
  }
  if (!preflight) return false;
  if (!listed) {
    const who = typeof origin === 'string' ? `origin '${origin.slice(0, 200)}'` : 'a request without Origin';
    throw new HttpError(
      403,
      'origin_not_allowed',
      `${who} is not allowed (porthole api serve --allow-origin)`,
    );
  }
  res.writeHead(204, {
    'access-control-allow-methods': ALLOW_METHODS,
    'access-control-allow-headers': ALLOW_HEADERS,
    'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
    'content-length': 0,
  });
  res.end();
  return true;
}
