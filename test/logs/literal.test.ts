import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ParsedEntry } from '../../src/logs/parse.js';
import { fileEntries, literalEntries, plainLiteral } from '../../src/logs/read.js';

const line = (text: string, s: number, component = 'CMGService') =>
  `<![LOG[${text}]LOG]!><time="01:00:${String(s).padStart(2, '0')}.000+000" date="11-29-2026" component="${component}" context="" type="1" thread="7" file="">\n`;

const LOG = [
  line('plain start', 0),
  line('has NEEDLE in text', 1),
  line('multi\nline with NEEDLE\nacross lines', 2),
  line('no match here', 3, 'NEEDLEComponent'),
  line('before a continuation', 4),
  'a continuation line with NEEDLE\n',
  line('NEEDLE at the start', 5),
  line('last NEEDLE', 6),
].join('');

async function collect(it: AsyncGenerator<ParsedEntry[]>): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of it)
    for (const e of batch) out.push(`${e.time?.toISOString()} ${e.component} ${e.text}`);
  return out;
}

test('the byte-level search finds exactly what the full parser and the filter find, whatever the chunk size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmg-literal-'));
  try {
    const file = join(dir, 'a.log');
    writeFileSync(file, LOG);
    const keep = (t: string) => /NEEDLE/.test(t);
    const expected = (await collect(fileEntries(file))).filter((l) => keep(l.split(' ').slice(2).join(' ')));
    assert.is(expected.length, 5);
    for (let chunk = 16; chunk <= LOG.length + 16; chunk += 7) {
      assert.equal(
        await collect(literalEntries(file, 'NEEDLE', keep, undefined, chunk)),
        expected,
        `chunk ${chunk}`,
      );
    }
    // An SMS-format file goes through the full parser.
    const sms = join(dir, 'b.log');
    writeFileSync(
      sms,
      'found NEEDLE here $$<X><11-29-2026 01:00:00.000+000><thread=1 (0x1)>\nother $$<X><11-29-2026 01:00:01.000+000><thread=1 (0x1)>\n',
    );
    // (the parser only skips CCM attributes; the command's filter then drops the SMS entry without the word)
    const all = await collect(literalEntries(sms, 'NEEDLE', keep));
    assert.equal(all, await collect(fileEntries(sms)));
    assert.is(all.filter((l) => l.includes('NEEDLE')).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a log in CCM then SMS lines: the full parser takes over where the search stopped (nothing twice, nothing lost)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmg-literal-'));
  try {
    const file = join(dir, 'mixed.log');
    const text = `${LOG}NEEDLE in SMS $$<X><11-29-2026 01:00:07.000+000><thread=1 (0x1)>\n${line('after NEEDLE', 8)}`;
    writeFileSync(file, text);
    const keep = (t: string) => /NEEDLE/.test(t);
    const kept = (l: string) => keep(l.split(' ').slice(2).join(' '));
    const expected = (await collect(fileEntries(file))).filter(kept);
    assert.is(expected.length, 7);
    for (let chunk = 16; chunk <= text.length + 16; chunk += 11) {
      assert.equal(
        (await collect(literalEntries(file, 'NEEDLE', keep, undefined, chunk))).filter(kept),
        expected,
        `chunk ${chunk}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('only a plain word of three or more characters, case-sensitive, takes the byte-level path', () => {
  assert.is(plainLiteral(/NEEDLE42/), 'NEEDLE42');
  assert.is(plainLiteral(/ab/), undefined);
  assert.is(plainLiteral(/NEEDLE/i), undefined);
  for (const re of [/a.b/, /^abc/, /abc$/, /a\dc/, /(abc)/, /ab|cd/, /ab[c]/, /abc+/])
    assert.is(plainLiteral(re), undefined, re.source);
});

test.run();
