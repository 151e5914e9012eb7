import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeError } from '../src/commands/base.js';
import { CmgError, ConfigError, ExitCode, exitCodeFor, OperationError, UsageError } from '../src/errors.js';

test('exit codes: usage and config errors 2, failed operations 1, anything unknown 1', () => {
  assert.is(exitCodeFor(new UsageError('bad flag')), ExitCode.usage);
  assert.is(exitCodeFor(new ConfigError('/x.json', [{ path: 'a', message: 'm' }])), 2);
  assert.is(exitCodeFor(new OperationError('CMG_NET', 'refused')), ExitCode.failed);
  assert.is(exitCodeFor(new Error('boom')), 1);
  assert.is(exitCodeFor('a string'), 1);
  // oclif's parse errors carry their own exit 2
  assert.is(exitCodeFor(Object.assign(new Error('Nonexistent flag'), { oclif: { exit: 2 } })), 2);
});

test('every CmgError has a stable code, its family, and JSON with code, message, hint and details', () => {
  const err = new ConfigError('/etc/cmg/gateway.json', [
    { path: 'listen.port', message: 'expected an integer', line: 3, column: 5 },
  ]);
  assert.ok(err instanceof CmgError);
  assert.is(err.code, 'CMG_CONFIG_INVALID');
  const json = err.toJSON();
  assert.equal(Object.keys(json).sort(), ['code', 'file', 'hint', 'issues', 'message']);
  assert.is(json.file, '/etc/cmg/gateway.json');
  assert.match(err.message, 'line 3, column 5: listen.port: expected an integer');
  const cause = new Error('ECONNREFUSED');
  const op = new OperationError('CMG_ARM_UNREACHABLE', 'cannot reach ARM', {
    cause,
    hint: 'check the proxy',
  });
  assert.is(op.cause, cause);
  assert.equal(op.toJSON(), {
    code: 'CMG_ARM_UNREACHABLE',
    message: 'cannot reach ARM',
    hint: 'check the proxy',
  });
});

test('errors that are not cmg errors are described without losing the message', () => {
  assert.is(describeError(new Error('x')).code, 'CMG_INTERNAL');
  const usage = describeError(
    Object.assign(new Error('Missing 1 required arg:\nfile\nSee more help with --help'), {
      oclif: { exit: 2 },
    }),
  );
  assert.is(usage.code, 'CMG_USAGE');
  assert.is(usage.message, 'Missing 1 required arg:\nfile');
});

test.run();
