/**
 * The systemd units porthole installs: the agent's (`porthole service install`, and the .deb's copy)
 * and the API server's (the .deb's copy). One renderer, so the package and the command install the
 * same sandbox; design/DEPLOY.md gives the reason for every line.
 */

/** The agent unit's sandbox. Helpers are the service's children and inherit all of it. */
export const AGENT_HARDENING: readonly string[] = [
  // The service drops to each session's user to start its helper: it gains no privilege by exec.
  'NoNewPrivileges=yes',
  // The whole file system read-only but for what the service and its helpers write: their state and
  // log dirs (StateDirectory=/LogsDirectory=), the users' homes, /run/user/<uid> (XDG runtime dirs,
  // the display managers' Xauthority files) and /tmp (the X sockets in /tmp/.X11-unix). No
  // PrivateTmp and no ProtectHome: either would hide the X sockets and the users' Xauthority files.
  // '-' because a server without logged-in users may have no /run/user yet.
  'ProtectSystem=strict',
  'ReadWritePaths=-/home -/run/user /tmp',
  'StateDirectory=porthole',
  'StateDirectoryMode=0700',
  'LogsDirectory=porthole',
  'LogsDirectoryMode=0700',
  // Mounts made by the host (a user's /run/user/<uid> at login) still reach the service; none of its
  // own go out.
  'PrivateMounts=yes',
  'ProtectKernelTunables=yes',
  'ProtectKernelModules=yes',
  'ProtectKernelLogs=yes',
  'ProtectControlGroups=yes',
  // No ProtectClock=: on systemd 252 (Debian 12) it implies DeviceAllow=char-rtc, which closes every
  // other device — /dev/dri and /dev/nvidia*, the helpers' hardware encoders. The @clock filter below
  // and the bounding set (no CAP_SYS_TIME) keep the clock safe all the same.
  'ProtectHostname=yes',
  'RestrictNamespaces=yes',
  'RestrictRealtime=yes',
  'RestrictSUIDSGID=yes',
  'LockPersonality=yes',
  'SystemCallArchitectures=native',
  // A deny list of groups nothing in the service, its helpers, Node or ffmpeg calls; an allow list
  // (@system-service) is not used: a call it missed would break a helper only on some machines.
  'SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap',
  'SystemCallErrorNumber=EPERM',
  // AF_UNIX: X sockets (paths and abstract ones), the helpers' socketpairs, D-Bus (loginctl).
  // AF_NETLINK: the network interface list ICE gathers candidates from. AF_INET/6: API, WebRTC.
  'RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6',
  // SETUID/SETGID: helpers run as the session's user. KILL: signalling those helpers.
  // DAC_OVERRIDE/DAC_READ_SEARCH: reaching Xauthority files in 0700 homes and /run/user/<uid>.
  'CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_KILL CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH',
  'UMask=0077',
];

export interface AgentUnitOptions {
  /** argv that starts porthole: `/usr/bin/porthole`, or node and bin/porthole.js of a checkout. */
  command: readonly string[];
  /** Arguments after `service` (`--config /etc/porthole/porthole.json`, `--log-level debug`). */
  serviceArgs?: readonly string[];
  /** The first comment line: who wrote this file. */
  origin: string;
}

export function renderAgentUnit(opts: AgentUnitOptions): string {
  return [
    `# ${opts.origin}`,
    '# Why each sandbox setting: design/DEPLOY.md. Change it with `systemctl edit`, not here.',
    '[Unit]',
    'Description=porthole remote-desktop agent',
    'Wants=network-online.target',
    'After=network-online.target systemd-logind.service',
    '',
    '[Service]',
    'Type=exec',
    `ExecStart=${execLine([...opts.command, 'service', ...(opts.serviceArgs ?? [])])}`,
    'Restart=on-failure',
    'RestartSec=5s',
    // SIGTERM to the service alone: it stops its helpers itself (each gets its grace period); what is
    // left after TimeoutStopSec is killed with the whole cgroup.
    'KillMode=mixed',
    'TimeoutStopSec=30s',
    ...AGENT_HARDENING,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export interface ApiUnitOptions {
  command: readonly string[];
  origin: string;
}

/**
 * The API server's unit: a system user of its own, its store in /var/lib/porthole-api, and the flags
 * of the deployment in /etc/porthole/api.env (`PORTHOLE_API_ARGS=…`; design/DEPLOY.md). Secrets
 * (TLS key, TURN secret) come as systemd credentials, readable by this service alone.
 */
export function renderApiUnit(opts: ApiUnitOptions): string {
  return [
    `# ${opts.origin}`,
    '# The production setup (TLS, data dir, TURN secret, reverse proxy): design/DEPLOY.md.',
    '[Unit]',
    'Description=porthole API and signaling server',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=exec',
    'User=porthole-api',
    'Group=porthole-api',
    'EnvironmentFile=-/etc/porthole/api.env',
    'Environment=PORTHOLE_API_DATA=/var/lib/porthole-api',
    `ExecStart=${execLine([...opts.command, 'api', 'serve', '--data-dir', '/var/lib/porthole-api'])} $PORTHOLE_API_ARGS`,
    'Restart=on-failure',
    'RestartSec=5s',
    'StateDirectory=porthole-api',
    'StateDirectoryMode=0700',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectProc=invisible',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
    // Port 443 without root; nothing else.
    'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
    'AmbientCapabilities=CAP_NET_BIND_SERVICE',
    'UMask=0077',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * An ExecStart= command line: each argument as one word, quoted when it has to be, with systemd's
 * specifier character (`%`) doubled so a path never expands into something else, and `$` doubled in
 * the arguments (systemd substitutes variables there, but not in the program's path).
 */
export function execLine(argv: readonly string[]): string {
  return argv.map((arg, i) => execWord(arg, i > 0)).join(' ');
}

function execWord(arg: string, expandsVariables: boolean): string {
  if (arg === '' || /[\0\n\r]/.test(arg))
    throw new TypeError(`cannot put ${JSON.stringify(arg)} in ExecStart=`);
  let escaped = arg.replace(/%/g, '%%');
  if (expandsVariables) escaped = escaped.replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./$-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
