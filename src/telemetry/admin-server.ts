import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { boundAddress, listenOn } from '../listen.js';

export interface Readiness {
  ready: boolean;
  /** What is missing, for people: "no healthy channel for site PS1". */
  reasons: string[];
}

export interface AdminHandlers {
  ready(): Readiness;
  status(): unknown;
  metrics: Registry;
}

export interface AdminServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The admin endpoint both daemons serve (plain HTTP, loopback by default):
 * `/healthz` (the process answers), `/readyz` (200 or 503 with reasons),
 * `/metrics` (Prometheus text), `/status` (JSON). GET and HEAD only.
 */
export async function startAdminServer(host: string, port: number, h: AdminHandlers): Promise<AdminServer> {
  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const json = (status: number, body: unknown) => {
      const text = `${JSON.stringify(body, null, 2)}\n`;
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    try {
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(req.method === 'HEAD' ? undefined : 'ok\n');
      } else if (path === '/readyz') {
        const r = h.ready();
        json(r.ready ? 200 : 503, r);
      } else if (path === '/metrics') {
        const text = await h.metrics.metrics();
        res.writeHead(200, { 'content-type': h.metrics.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      } else if (path === '/status') {
        json(200, h.status());
      } else {
        res
          .writeHead(404, { 'content-type': 'text/plain' })
          .end('not found: try /healthz, /readyz, /metrics, /status\n');
      }
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`error: ${(err as Error).message}\n`);
    }
  });
  await listenOn(server, port, host, 'the admin endpoint', 'admin.port');
  return {
    url: `http://${boundAddress(server)}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
