// The benchmark's stand-in management point: HTTPS with keep-alive, in its
// own process so that its CPU time is counted apart from the proxies'. Every
// contender (direct, nginx, cmg) talks to this same process.
//   .../x               1 KB answer (the request-rate and latency figures)
//   .../down?bytes=N    N bytes, streamed (downloads)
//   .../up              reads the body, answers its size as JSON (uploads)
//   .../hold            held until the parent sends 'release' (client notification)
// The parent talks to it over IPC: {cmd:'held'} → {held:n}; {cmd:'release'}.
// Usage (forked): mp.mjs <certFile> <keyFile> [port]
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

const [certFile, keyFile, portArg] = process.argv.slice(2);
const ONE_KB = Buffer.alloc(1024, 'x');
const CHUNK = Buffer.alloc(256 * 1024, 'd');
const held = [];

function download(res, bytes) {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes });
  let left = bytes;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

const server = createServer(
  { cert: readFileSync(certFile), key: readFileSync(keyFile), keepAliveTimeout: 600_000 },
  (req, res) => {
    const url = req.url ?? '';
    if (url.endsWith('/x')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1024 });
      res.end(ONE_KB);
    } else if (url.includes('/down?bytes=')) {
      download(res, Number(url.slice(url.indexOf('=') + 1)));
    } else if (url.endsWith('/up')) {
      let bytes = 0;
      req.on('data', (c) => {
        bytes += c.length;
      });
      req.on('end', () => {
        const body = JSON.stringify({ bytes });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
      });
    } else if (url.endsWith('/hold')) {
      held.push(res);
    } else {
      res.writeHead(404, { 'content-length': 0 });
      res.end();
    }
  },
);
server.keepAliveTimeout = 600_000;
server.headersTimeout = 0;
server.requestTimeout = 0;
server.maxConnections = 100_000;

process.on('message', (m) => {
  if (m.cmd === 'held') process.send({ held: held.length });
  else if (m.cmd === 'release') {
    for (const res of held.splice(0)) {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 8 });
      res.end('released');
    }
    process.send({ released: true });
  }
});
process.on('disconnect', () => process.exit(0));
server.listen(Number(portArg ?? 0), '127.0.0.1', () => process.send({ port: server.address().port }));
