import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { exitCodeFor, OperationError } from '../src/errors.js';
import { listenOn } from '../src/listen.js';

const test = suite('listenOn');

test('a port another process holds is an admin error naming the address and the config key, not a crash', async () => {
  const holder = createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  const { port } = holder.address() as AddressInfo;
  const second = createServer();
  try {
    await listenOn(second, port, '127.0.0.1', 'the admin endpoint', 'admin.port');
    assert.unreachable('listened on a port in use');
  } catch (err) {
    assert.instance(err, OperationError);
    const e = err as OperationError;
    assert.is(e.code, 'CMG_LISTEN');
    assert.is(
      e.message,
      `cannot listen on 127.0.0.1:${port} for the admin endpoint: the address is already in use`,
    );
    assert.match(e.hint ?? '', 'admin.port');
    assert.is(exitCodeFor(e), 1);
  } finally {
    holder.close();
  }
});

test('a free port listens', async () => {
  const server = createServer();
  await listenOn(server, 0, '127.0.0.1', 'clients', 'listen.port');
  assert.ok((server.address() as AddressInfo).port > 0);
  server.close();
});

test.run();
