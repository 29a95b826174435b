/**
 * Converts the protocol's browser-style ICE servers ({urls, username, credential}) into
 * libdatachannel's objects. The object form is used rather than libdatachannel's URL strings so that
 * credentials with ':' or '@' in them never need escaping.
 */
import type { IceServer as LdcIceServer } from 'node-datachannel';
import type { IceServer } from '../../protocol/common.js';
import { type Logger } from '../../log/logger.js';

const DEFAULT_PORT = { stun: 3478, turn: 3478, turns: 5349 } as const;

interface ParsedUrl {
  scheme: 'stun' | 'stuns' | 'turn' | 'turns';
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | undefined;
}

/** Parses `scheme:host[:port][?transport=udp|tcp]` (RFC 7064/7065); IPv6 hosts are in brackets. */
export function parseIceUrl(url: string): ParsedUrl | undefined {
  const m =
    /^(stuns?|turns?):(\[[0-9a-fA-F:.]+\]|[^\s:?/[\]@]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/i.exec(
      url,
    );
  if (!m?.[1] || !m[2]) return undefined;
  const scheme = m[1].toLowerCase() as ParsedUrl['scheme'];
  const host = m[2].startsWith('[') ? m[2].slice(1, -1) : m[2];
  const port = m[3] ? Number(m[3]) : scheme === 'stuns' ? 5349 : DEFAULT_PORT[scheme];
  if (port < 1 || port > 65_535) return undefined;
  const transport = m[4]?.toLowerCase() as ParsedUrl['transport'];
  return { scheme, host, port, transport };
}

/** Each usable URL becomes one libdatachannel server; unusable ones are logged and left out. */
export function toLibdatachannelIceServers(
  servers: readonly IceServer[],
  log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>,
): LdcIceServer[] {
  const out: LdcIceServer[] = [];
  for (const server of servers) {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    for (const url of urls) {
      const parsed = parseIceUrl(url);
      if (!parsed) {
        log.warn({ url }, 'ICE server URL not understood; skipped');
        continue;
      }
      if (parsed.scheme === 'stuns') {
        // libdatachannel has no STUN over TLS; a turns: entry covers the same firewall case.
        log.warn({ url }, 'stuns: is not supported; skipped');
        continue;
      }
      if (parsed.scheme === 'stun') {
        out.push({ hostname: parsed.host, port: parsed.port });
        continue;
      }
      if (server.username === undefined || server.credential === undefined) {
        log.warn({ url }, 'TURN server without username and credential; skipped');
        continue;
      }
      if (parsed.scheme === 'turns' || parsed.transport === 'tcp') {
        // node-datachannel's libdatachannel is built on libjuice, whose TURN client speaks UDP only
        // (it would drop the server with a warning of its own). The API sends agents UDP TURN only;
        // an older API may still send these.
        log.info({ url }, 'TURN over TCP/TLS is not supported by libjuice; skipped');
        continue;
      }
      out.push({
        hostname: parsed.host,
        port: parsed.port,
        username: server.username,
        password: server.credential,
        relayType: 'TurnUdp',
      });
    }
  }
  return out;
}
