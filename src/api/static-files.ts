/**
 * Serves the built viewer (a single-page app) and sets the security headers every response carries.
 * Paths are resolved inside the static root and then checked again after following symlinks, so
 * neither `..`, encoded separators nor a link can reach a file outside it.
 */
import { createReadStream, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

export const VIEWER_NOT_BUILT = 'viewer not built: run npm run build:viewer';

/**
 * Only same-origin scripts, styles and connections; video and cursor images may come from blob:/data:
 * URLs the viewer makes itself. WebRTC media is not a fetch, so `connect-src 'self'` does not block it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function setSecurityHeaders(res: ServerResponse, https: boolean): void {
  res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  if (https) res.setHeader('strict-transport-security', 'max-age=31536000');
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Serves one GET/HEAD under the static root; answers 404/405/503 itself. */
export function serveStatic(
  root: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return sendText(res, 405, 'method not allowed');
  }
  const realRoot = root && realDir(root);
  if (!realRoot || !isFile(join(realRoot, 'index.html'))) {
    if (path === '/' || path === '/index.html') return sendText(res, 503, VIEWER_NOT_BUILT);
    return sendText(res, 404, 'not found');
  }
  const file = locate(realRoot, path);
  if (!file) return sendText(res, 404, 'not found');
  const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  const size = statSync(file).size;
  res.writeHead(200, {
    'content-type': type,
    'content-length': size,
    // index.html names the hashed bundles; it must never be cached or a deploy would serve stale code.
    'cache-control': file.endsWith(`${sep}index.html`) ? 'no-store' : 'no-cache',
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

/** The file a URL path names inside the root (a directory means its index.html), or undefined. */
function locate(realRoot: string, path: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  let candidate = resolve(realRoot, `.${decoded}`);
  if (!inside(realRoot, candidate)) return undefined;
  if (isDir(candidate)) candidate = join(candidate, 'index.html');
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    return undefined;
  }
  return inside(realRoot, real) && isFile(real) ? real : undefined;
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

function realDir(dir: string): string | undefined {
  try {
    const real = realpathSync(dir);
    return isDir(real) ? real : undefined;
  } catch {
    return undefined;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
