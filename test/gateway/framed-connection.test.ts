import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { attachFramedConnection, takeFramedRequest } from '../../src/gateway/framed-connection.js';
import { Refusal } from '../../src/gateway/refusals.js';

const H = 'Host: cmg.contoso.com\r\n';

/** A real HTTP server fed through the framer, answering with what it saw: original method, URL, body size. */
async function start(
  headTimeoutMs = 5000,
): Promise<{ port: number; close: () => Promise<void>; aborts: string[] }> {
  const aborts: string[] = [];
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const entry = takeFramedRequest(req);
    if (!entry) return;
    if (entry.refusal) {
      const r = Refusal[entry.refusal.refused];
      res.writeHead(r.status, { 'x-cmg-error': r.code, connection: 'close' });
      res.end();
      return;
    }
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => res.end(`${entry.method} ${req.url} ${bytes}`));
  });
  const net: NetServer = createNetServer({ allowHalfOpen: true }, (socket) =>
    attachFramedConnection(http, socket, {
      maxHeaderBytes: 16384,
      maxUrlLength: 4096,
      headTimeoutMs,
      onAbort: (r) => aborts.push(r),
    }),
  );
  await new Promise<void>((r) => net.listen(0, '127.0.0.1', r));
  const port = (net.address() as { port: number }).port;
  return { port, aborts, close: () => new Promise((r) => net.close(() => r())) };
}

/** Sends raw bytes, half-closes, and collects everything the server sends until it closes. */
function exchange(port: number, data: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(data);
      s.end();
    });
    let got = '';
    s.on('data', (c) => {
      got += c.toString('latin1');
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got: ${got}`));
    }, timeoutMs);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    s.on('error', () => {});
  });
}

const bodies = (raw: string) =>
  raw
    .split(/HTTP\/1\.1 /)
    .slice(1)
    .map((r) => {
      const [head = '', body = ''] = r.split('\r\n\r\n');
      return `${head.split('\r\n')[0]} | ${body.replace(/^[0-9a-f]+\r\n|\r\n0\r\n$/g, '').trim()}`;
    });

test('CCM_POST, BITS_POST, PROPFIND and GET on one keep-alive connection, pipelined and half-closed', async () => {
  const srv = await start();
  try {
    const raw = await exchange(
      srv.port,
      `CCM_POST /CCM_Proxy_MutualAuth/1/ccm_system/request HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello` +
        `BITS_POST /CCM_Proxy_MutualAuth/1/CCM_Incoming/x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n` +
        `PROPFIND /CCM_Proxy_MutualAuth/1/SMS_MP HTTP/1.1\r\n${H}\r\n` +
        `GET /CCM_Proxy_MutualAuth/1/SMS_MP/.sms_aut?MPLIST HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    );
    assert.equal(bodies(raw), [
      '200 OK | CCM_POST /CCM_Proxy_MutualAuth/1/ccm_system/request 5',
      '200 OK | BITS_POST /CCM_Proxy_MutualAuth/1/CCM_Incoming/x 3',
      '200 OK | PROPFIND /CCM_Proxy_MutualAuth/1/SMS_MP 0',
      '200 OK | GET /CCM_Proxy_MutualAuth/1/SMS_MP/.sms_aut?MPLIST 0',
    ]);
  } finally {
    await srv.close();
  }
});

test('a smuggling attempt after a good request: the good one is answered, then 400 with its code, then close', async () => {
  const srv = await start();
  try {
    const raw = await exchange(
      srv.port,
      `GET /ok HTTP/1.1\r\n${H}\r\n` +
        `POST /a HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n` +
        `GET /smuggled HTTP/1.1\r\n${H}\r\n`,
    );
    const answers = bodies(raw);
    assert.is(answers.length, 2, raw);
    assert.is(answers[0], '200 OK | GET /ok 0');
    assert.match(answers[1] ?? '', /^400 Bad Request/);
    assert.match(raw, /x-cmg-error: CMGService_AmbiguousContentLength/i);
    assert.not.match(raw, 'smuggled');
  } finally {
    await srv.close();
  }
});

test("a head that never completes is cut off by the framer's own timer", async () => {
  const srv = await start(300);
  try {
    const closed = await new Promise<number>((resolve) => {
      const t0 = Date.now();
      const s = connect(srv.port, '127.0.0.1', () => s.write('GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: '));
      s.on('close', () => resolve(Date.now() - t0));
      s.on('error', () => {});
    });
    assert.ok(closed < 5000, `closed after ${closed} ms`);
    assert.match(srv.aborts.join('|'), 'request head not complete after 300 ms');
  } finally {
    await srv.close();
  }
});

test('a head trickled one byte at a time is cut at its deadline, counted from its first byte', async () => {
  const srv = await start(400);
  try {
    const closed = await new Promise<number>((resolve) => {
      const t0 = Date.now();
      const head =
        'GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n';
      let i = 0;
      const s = connect(srv.port, '127.0.0.1');
      const drip = setInterval(() => {
        if (i < head.length && !s.destroyed) s.write(head[i++] as string);
      }, 50);
      s.on('close', () => {
        clearInterval(drip);
        resolve(Date.now() - t0);
      });
      s.on('error', () => {});
    });
    // Each byte comes well within 400 ms of the last: an inactivity timer would wait for the whole head (4 s).
    assert.ok(closed >= 350 && closed < 1500, `closed after ${closed} ms`);
    assert.match(srv.aborts.join('|'), 'request head not complete after 400 ms');
  } finally {
    await srv.close();
  }
});

test.run();
