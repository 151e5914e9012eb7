import { resolve } from 'node:path';

export interface UnitRequest {
  /** `serve` or `connect`. */
  command: 'serve' | 'connect';
  /** What the unit runs: for people, in Description. */
  what: string;
  configFile: string;
  logDir: string;
  /** The command line that starts cmg: the binary, or node and bin/run.js. */
  exec: string[];
  user: string;
  /** The environment file for a PFX passphrase, when the config names one. */
  passphraseEnv?: string | undefined;
  /** Seconds systemd waits for the drain before it kills. */
  stopTimeoutSeconds: number;
}

const quote = (s: string) =>
  /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\\\$`])/g, '\\\\$1')}"`;

/**
 * A hardened systemd unit for a cmg daemon: a dedicated user, no new
 * privileges, a read-only system but for its log folder, restart on
 * failure, SIGHUP to reload, a stop timeout longer than the drain. The
 * gateway alone keeps CAP_NET_BIND_SERVICE, to listen on 443 unprivileged.
 */
export function systemdUnit(u: UnitRequest): string {
  const service = u.command === 'serve' ? 'cmg-gateway' : 'cmg-connector';
  const caps = u.command === 'serve' ? 'CAP_NET_BIND_SERVICE' : '';
  const lines = [
    `# ${service}.service: written by \`cmg ${u.command} --print-systemd-unit\``,
    `# Install: useradd --system --no-create-home --shell /usr/sbin/nologin ${u.user}`,
    `#          (the user must read ${u.configFile} and the files it names)`,
    `#          cmg ${u.command} ... --print-systemd-unit > /etc/systemd/system/${service}.service`,
    `#          systemctl daemon-reload && systemctl enable --now ${service}`,
    '[Unit]',
    `Description=${u.what}`,
    'Documentation=https://github.com/cmg/cmg#readme',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${u.user}`,
    `Group=${u.user}`,
    `ExecStart=${[...u.exec, u.command, '--config', resolve(u.configFile)].map(quote).join(' ')}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${u.stopTimeoutSeconds}`,
    'Restart=on-failure',
    'RestartSec=5s',
    ...(u.passphraseEnv
      ? [
          `# ${u.passphraseEnv}=<the PFX passphrase>, in a file only root can read (chmod 600): never on the command line`,
          `EnvironmentFile=/etc/cmg/${service}.env`,
        ]
      : []),
    'LimitNOFILE=1048576',
    'NoNewPrivileges=yes',
    `CapabilityBoundingSet=${caps}`,
    ...(caps ? [`AmbientCapabilities=${caps}`] : []),
    'ProtectSystem=strict',
    `ReadWritePaths=${quote(resolve(u.logDir))}`,
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    'UMask=0077',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}

/** How this cmg was started: the single binary alone, or node with bin/run.js. */
export function currentExec(argv = process.argv, execPath = process.execPath): string[] {
  const script = argv[1];
  return !script || script === execPath ? [execPath] : [execPath, resolve(script)];
}
