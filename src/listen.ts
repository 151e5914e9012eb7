import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { OperationError } from './errors.js';

const reasons: Record<string, string> = {
  EADDRINUSE: 'the address is already in use',
  EACCES: 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'no interface of this machine has that address',
};

/**
 * Listens, or fails with an error an admin can act on: which address, for
 * what, set by which config key, and why (a port another process holds is
 * the common case; it is not a bug in cmg).
 */
export async function listenOn(
  server: Server,
  port: number,
  host: string,
  what: string,
  key: string,
): Promise<void> {
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new OperationError(
      'CMG_LISTEN',
      `cannot listen on ${hostPort(host, port)} for ${what}: ${reasons[code] ?? (err as Error).message}`,
      {
        hint:
          code === 'EADDRINUSE'
            ? `another process holds it (see \`ss -ltnp 'sport = :${port}'\`): stop it or change ${key} in the config`
            : `change ${key} in the config`,
      },
    );
  }
}

/** `host:port`, an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Where a listening server is, as `host:port`. */
export function boundAddress(server: Server): string {
  const a = server.address() as AddressInfo;
  return hostPort(a.address, a.port);
}
