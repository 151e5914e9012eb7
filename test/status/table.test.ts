import { Chalk } from 'chalk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderTable, stripAnsi, visibleWidth } from '../../src/status/table.js';

const red = new Chalk({ level: 1 }).red;

test('columns are as wide as their widest cell; numbers right-aligned; no trailing spaces', () => {
  const lines = renderTable(
    [{ header: 'NAME' }, { header: 'COUNT', align: 'right' }, { header: 'NOTE' }],
    [
      ['cp01', '7', 'ok'],
      ['connection-point-02', '12,345', ''],
    ],
  );
  assert.equal(lines, [
    'NAME                  COUNT  NOTE',
    'cp01                      7  ok',
    'connection-point-02  12,345',
  ]);
});

test('indent and gap; short rows are padded with empty cells', () => {
  const lines = renderTable([{ header: 'A' }, { header: 'B' }, { header: 'C' }], [['x'], ['y', 'z', 'w']], {
    indent: 2,
    gap: 1,
  });
  assert.equal(lines, ['  A B C', '  x', '  y z w']);
});

test('ANSI colour takes no width: coloured and plain cells line up', () => {
  const lines = renderTable(
    [{ header: 'STATE' }, { header: 'N', align: 'right' }],
    [
      [red('closed'), '1'],
      ['up', red('10')],
    ],
  );
  assert.ok(lines[1]?.includes('\x1b['), 'the colour is kept');
  assert.equal(lines.map(stripAnsi), ['STATE    N', 'closed   1', 'up      10']);
  assert.is(new Set(lines.map(visibleWidth)).size, 1);
});

test('the header style applies to the padded header line', () => {
  const lines = renderTable([{ header: 'A' }, { header: 'B' }], [['long', 'x']], { header: (h) => `<${h}>` });
  assert.is(lines[0], '<A     B>');
});

test('visibleWidth counts code points, not UTF-16 units or escape sequences', () => {
  assert.is(visibleWidth('abc'), 3);
  assert.is(visibleWidth(red('abc')), 3);
  assert.is(visibleWidth('𝒳y'), 2);
});

test.run();
