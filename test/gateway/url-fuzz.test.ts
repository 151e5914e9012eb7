/**
 * Property-based tests of URL validation and routing against the reference
 * model in test/helpers/url-model.ts: src/gateway/url.ts, router.ts, the
 * request pipeline's pure steps, and the connection point's cut of the rest
 * (src/channel/paths.ts), which must agree with the gateway's routing.
 *
 * Inputs are adversarial: path segments built from a dictionary of dangerous
 * tokens (dot segments in every encoding, encoded slashes, NUL, overlong and
 * invalid UTF-8, double encoding, IIS's %u), percent-encodings of random
 * bytes, published prefixes with their characters escaped and their case
 * changed, and Unicode whose case mapping is unusual (İ, K, ß, Σ).
 *
 * Runs per property: CMG_FUZZ_RUNS (default 3000); CMG_FUZZ_SEED replays a
 * run; CMG_FUZZ_REPORT=1 prints each property's runs and time
 * (scripts/fuzz.mjs runs a million).
 */
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConnectionPointIdentity } from '../../src/certs/identity.js';
import { restAfterPrefix } from '../../src/channel/paths.js';
import type { GatewayChannel } from '../../src/gateway/channel.js';
import { ChannelRegistry } from '../../src/gateway/channel-registry.js';
import type { ClientAuthenticator } from '../../src/gateway/client-auth.js';
import { type PipelineParts, type RequestContext, runPipeline } from '../../src/gateway/pipeline.js';
import { Refusal } from '../../src/gateway/refusals.js';
import { needsClientCertificate, PrefixRouter } from '../../src/gateway/router.js';
import { isRefused, validateTarget } from '../../src/gateway/url.js';
import {
  decodeUtf8Strict,
  modelAnswer,
  modelNeedsClientCertificate,
  modelRoute,
  modelValidate,
} from '../helpers/url-model.js';

const RUNS = Number(process.env.CMG_FUZZ_RUNS ?? 3000);
const SEED = process.env.CMG_FUZZ_SEED === undefined ? undefined : Number(process.env.CMG_FUZZ_SEED);
const REPORT = process.env.CMG_FUZZ_REPORT === '1';
const LIMIT = 4096;

function check<T>(name: string, arb: fc.Arbitrary<T>, predicate: (v: T) => void): void {
  test(name, () => {
    const started = performance.now();
    fc.assert(fc.property(arb, predicate), { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) });
    if (REPORT) console.log(`  ${RUNS} runs in ${Math.round(performance.now() - started)} ms: ${name}`);
  });
}

function checkAsync<T>(name: string, arb: fc.Arbitrary<T>, predicate: (v: T) => Promise<void>): void {
  test(name, async () => {
    const started = performance.now();
    await fc.assert(fc.asyncProperty(arb, predicate), {
      numRuns: RUNS,
      ...(SEED === undefined ? {} : { seed: SEED }),
    });
    if (REPORT) console.log(`  ${RUNS} runs in ${Math.round(performance.now() - started)} ms: ${name}`);
  });
}

// ------------------------------------------------------------------ arbitraries

/** Tokens that have broken path handling somewhere: each is a whole segment or a piece of one. */
const DANGEROUS = [
  '.',
  '..',
  '...',
  '..;',
  ';',
  '%2e',
  '%2E',
  '%2e%2e',
  '%2E%2e',
  '.%2e',
  '%2e.',
  '%252e',
  '%252E%252e',
  '%25252e',
  '%25',
  '%2525',
  '%252f',
  '%255c',
  '%2f',
  '%2F',
  '%5c',
  '%5C',
  '\\',
  '..\\',
  '%00',
  '%0a',
  '%0d%0a',
  '%09',
  '%1f',
  '%7f',
  '%20',
  '%c0%ae',
  '%C0%AE',
  '%c0%af',
  '%c1%9c',
  '%e0%80%ae',
  '%f0%80%80%ae',
  '%ed%a0%80',
  '%f4%90%80%80',
  '%f8%88%80%80%80',
  '%ff',
  '%fe',
  '%80',
  '%c3',
  '%c3%a9',
  '%C3%A9',
  '%c2%85',
  '%c2%9f',
  '%c2%a0',
  '..%20',
  '.%20%20',
  '%20..',
  '%e2%80%ae',
  '%ef%bc%8e',
  '%ef%bc%8f',
  '%ef%bb%bf',
  '%u002e',
  '%%32e',
  '%2',
  '%',
  '%zz',
  '%g0',
  '?',
  '#',
  '%23',
  '%3f',
  '%3F',
  ' ',
  '\t',
  '\x00',
  '\x7f',
  '\u00e9',
  '\u0130',
  '%C4%B0',
  '\u212a',
  '%E2%84%AA',
  '\u00df',
  '~',
  '*',
  ':',
  '@',
  '!',
  "'",
  '$',
  '&',
  '=',
  '+',
  ',',
  'a',
  'A',
  '',
] as const;

/** Segments of published prefixes (valid as the connection point's `external`: no `.`/`..`, `%`, `\`, `?`, `#`). */
const WORDS = [
  'CCM_Proxy_MutualAuth',
  'CCM_Proxy_ServerAuth',
  '72057594037927939',
  '72057594037927940',
  'CCM_System',
  'CCM_System_TokenAuth',
  'SMS_MP',
  '.sms_aut',
  'Public',
  'echo',
  'a',
  'a.b',
  '...',
  '\u0130', // İ: lower-cases to two code units
  '\u0131', // ı: upper-cases to I
  'Stra\u00dfe', // ß: upper-cases to SS
  'k',
  '\u212a', // Kelvin sign: lower-cases to k
  '\u03a3\u03a3', // ΣΣ: final sigma when lower-cased as a word
  '\u03c3',
] as const;

/** A xorshift sequence from `seed`: deterministic choices, one number per character. */
function choices(seed: number): () => number {
  let x = seed | 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x;
  };
}

/** A deterministic case change of each character, chosen by `seed`. */
function changeCase(s: string, seed: number): string {
  const next = choices(seed);
  let out = '';
  for (const ch of s) {
    const x = next();
    out += x & 1 ? ch.toUpperCase() : x & 2 ? ch.toLowerCase() : ch;
  }
  return out;
}

/** A character's UTF-8 bytes percent-encoded, lower-case hex. */
const percentEncoded = (ch: string) =>
  [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

/** Percent-encodes some characters (their UTF-8 bytes), hex digits in either case, chosen by `seed`. */
function escapeSome(s: string, seed: number): string {
  const next = choices(seed);
  let out = '';
  for (const ch of s) {
    const x = next();
    if (x % 3 === 0) {
      const hex = percentEncoded(ch);
      out += x & 4 ? hex.toUpperCase() : hex;
    } else {
      out += ch;
    }
  }
  return out;
}

/** Non-ASCII characters percent-encoded as UTF-8 (what a client must do), the rest as it is. */
const encodeNonAscii = (s: string) =>
  [...s].map((ch) => (ch.charCodeAt(0) < 0x80 ? ch : percentEncoded(ch).toUpperCase())).join('');

const seed = fc.integer();
const encodedByte = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.boolean())
  .map(([b, upper]) => `%${(upper ? b.toString(16).toUpperCase() : b.toString(16)).padStart(2, '0')}`);
/** A prefix word, its case changed, some characters escaped, non-ASCII encoded (rarely left raw). */
const word = fc.tuple(fc.constantFrom(...WORDS), seed, fc.boolean(), fc.nat(31)).map(([w, s, esc, raw]) => {
  const t = esc ? escapeSome(changeCase(w, s), s >>> 3) : changeCase(w, s);
  return raw === 0 ? t : encodeNonAscii(t);
});
/** Raw characters a target may not hold at all: each refuses the whole target, so they are rarer. */
const RAW_BAD = new Set<string>([
  ' ',
  '\t',
  '\x00',
  '\x7f',
  '\u00e9',
  '\u0130',
  '\u212a',
  '\u00df',
  '\\',
  '..\\',
  '#',
  '?',
]);
const piece = fc.oneof(
  { weight: 24, arbitrary: fc.constantFrom(...DANGEROUS.filter((d) => !RAW_BAD.has(d))) },
  { weight: 1, arbitrary: fc.constantFrom(...RAW_BAD) },
  { weight: 12, arbitrary: encodedByte },
  { weight: 20, arbitrary: word },
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...'.%/\\?#aA0'), maxLength: 4 }) },
);
/** One path segment (or what looks like one): a piece alone, or two or three run together; its case changed. */
const segment = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: piece.map((p) => [p]) },
      { weight: 2, arbitrary: fc.array(piece, { minLength: 2, maxLength: 3 }) },
    ),
    seed,
    fc.nat(3),
  )
  .map(([ps, s, flip]) => (flip === 0 ? changeCase(ps.join(''), s) : ps.join('')));

/** Published prefixes of one site, distinct ignoring case (as the router keys them). */
const prefixArb = fc
  .tuple(fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 4 }), seed)
  .map(([ws, s]) => `/${ws.map((w, i) => (i % 2 === 0 ? changeCase(w, s + i) : w)).join('/')}`);
const routesArb = fc.uniqueArray(prefixArb, {
  minLength: 1,
  maxLength: 6,
  selector: (p) => p.toLowerCase(),
});

/** A request target: often under one of `routes` (escaped, case changed), then dangerous segments. */
function targetArb(routes: readonly string[]): fc.Arbitrary<string> {
  const under =
    routes.length === 0
      ? fc.constant([] as string[])
      : fc
          .tuple(fc.constantFrom(...routes), seed, fc.boolean(), fc.boolean(), fc.nat(31))
          .map(([r, s, flip, esc, raw]) => {
            let t = r.slice(1);
            if (flip) t = changeCase(t, s);
            // Escape within segments only: an escaped '/' is its own attack, generated elsewhere.
            if (esc)
              t = t
                .split('/')
                .map((x, i) => escapeSome(x, s + i))
                .join('/');
            // A client must encode non-ASCII; now and then one does not.
            return (raw === 0 ? t : encodeNonAscii(t)).split('/');
          });
  return fc
    .record({
      start: fc.oneof(
        { weight: 30, arbitrary: fc.constant('/') },
        {
          weight: 1,
          arbitrary: fc.constantFrom('', 'http://evil/', 'https://h:443/', '*', 'a/', '//', '\\'),
        },
      ),
      base: fc.oneof({ weight: 3, arbitrary: under }, { weight: 1, arbitrary: fc.constant([] as string[]) }),
      segs: fc.array(segment, { maxLength: 5 }),
      trailing: fc.boolean(),
      query: fc.option(fc.array(fc.oneof(segment, fc.constantFrom('=', '&', '/', '?')), { maxLength: 4 })),
    })
    .map(
      ({ start, base, segs, trailing, query }) =>
        `${start}${[...base, ...segs].join('/')}${trailing ? '/' : ''}${query === null ? '' : `?${query.join('')}`}`,
    );
}

const FIXED_ROUTES = [
  '/CCM_Proxy_MutualAuth/72057594037927939/CCM_System',
  '/CCM_Proxy_MutualAuth/72057594037927939/CCM_System/special',
  '/CCM_Proxy_MutualAuth/72057594037927939/SMS_MP',
  '/CCM_Proxy_ServerAuth/72057594037927939/SMS_MP',
  '/Public/\u0130/Stra\u00dfe',
];

/** Routes and a target, often under one of them; the URL limit sometimes small enough to matter. */
const scenario = fc
  .oneof({ weight: 1, arbitrary: fc.constant(FIXED_ROUTES) }, { weight: 2, arbitrary: routesArb })
  .chain((routes) =>
    fc.record({
      routes: fc.constant(routes),
      target: targetArb(routes),
      limit: fc.oneof(
        { weight: 9, arbitrary: fc.constant(LIMIT) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 120 }) },
      ),
    }),
  );

function routerOf(routes: readonly string[]): PrefixRouter<string> {
  const r = new PrefixRouter<string>();
  for (const p of routes) r.set(p, p);
  return r;
}

// ------------------------------------------------------------------ properties

check(
  'validateTarget agrees with the reference model (status, decoded path, query)',
  scenario,
  ({ target, limit }) => {
    const got = validateTarget(target, limit);
    const want = modelValidate(target, limit);
    if (want.ok) {
      if (isRefused(got))
        throw new Error(`refused ${JSON.stringify(target)} (${got.reason}); the model accepts it`);
      assert.equal(
        { path: got.path, query: got.query, raw: got.raw },
        { path: want.path, query: want.query, raw: target },
        JSON.stringify(target),
      );
    } else {
      if (!isRefused(got))
        throw new Error(
          `accepted ${JSON.stringify(target)} as ${JSON.stringify(got.path)}; the model: ${want.why}`,
        );
      assert.is(
        Refusal[got.refused].status,
        want.status,
        `${JSON.stringify(target)}: ${got.reason} / ${want.why}`,
      );
    }
  },
);

check(
  'an accepted target is safe whatever the model says: no dot or empty segment, no \\, no control character, UTF-8, decoded once',
  scenario,
  ({ target, limit }) => {
    const got = validateTarget(target, limit);
    if (isRefused(got)) return;
    const segs = got.path.split('/').slice(1);
    assert.ok(!segs.some((s, i) => s === '.' || s === '..' || (s === '' && i < segs.length - 1)), target);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    assert.not.match(got.path, /[\\\x00-\x1f\x7f]/, target);
    assert.not.match(got.path, /%[0-9a-f]{2}/i, `still encoded: ${target}`);
    assert.is(
      got.path.split('/').length,
      got.raw.split('?')[0]?.split('/').length,
      `segments changed: ${target}`,
    );
    // A third opinion on the decoding: decodeURIComponent reads the same text (it throws on bad UTF-8).
    assert.is(decodeURIComponent(got.raw.split('?')[0] ?? ''), got.path, target);
  },
);

const pathsArb = routesArb.chain((routes) =>
  fc.record({
    routes: fc.constant(routes),
    path: fc
      .record({
        base: fc.oneof(
          fc.constant(''),
          fc.tuple(fc.constantFrom(...routes), seed, fc.integer({ min: 0, max: 4 })).map(([r, s, drop]) => {
            const parts = changeCase(r, s).split('/');
            return parts.slice(0, Math.max(1, parts.length - (drop % parts.length))).join('/');
          }),
        ),
        more: fc.array(
          fc.oneof(
            fc.constantFrom(...WORDS),
            fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }).map((s) => s.replaceAll('/', '_')),
          ),
          { maxLength: 3 },
        ),
        trailing: fc.boolean(),
      })
      .map(({ base, more, trailing }) => {
        const p = [base, ...more].join('/') || '/';
        return `${p.startsWith('/') ? p : `/${p}`}${trailing && !p.endsWith('/') ? '/' : ''}`;
      })
      .filter(
        (p) =>
          !p
            .slice(1)
            .split('/')
            .some((s, i, a) => s === '.' || s === '..' || (s === '' && i < a.length - 1)),
      ),
  }),
);

check(
  'PrefixRouter.match agrees with the model: longest whole-segment prefix, ignoring case, and the rest',
  pathsArb,
  ({ routes, path }) => {
    const got = routerOf(routes).match(path);
    const want = modelRoute(path, routes);
    assert.equal(
      got ? { prefix: got.prefix, rest: got.rest } : undefined,
      want,
      `${JSON.stringify(path)} in ${JSON.stringify(routes)}`,
    );
  },
);

check(
  'the namespace check agrees with the model, and whatever routes to a mutual-auth prefix needs a certificate',
  scenario,
  ({ routes, target, limit }) => {
    const v = validateTarget(target, limit);
    if (isRefused(v)) return;
    assert.is(needsClientCertificate(v.path), modelNeedsClientCertificate(v.path), v.path);
    const hit = routerOf(routes).match(v.path);
    if (hit && modelNeedsClientCertificate(hit.prefix)) {
      assert.ok(needsClientCertificate(v.path), `${v.path} routes to ${hit.prefix} without a certificate`);
    }
  },
);

/** The model's own reading of an escaped string: decode once to bytes, strict UTF-8. */
function decodeOnce(raw: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '%') {
      bytes.push(Number.parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(raw.charCodeAt(i));
  }
  return decodeUtf8Strict(bytes);
}

check(
  "the connection point forwards where the gateway routed: the rest it cuts from the raw target is the router's rest, still encoded, with the query",
  scenario,
  ({ routes, target, limit }) => {
    const v = validateTarget(target, limit);
    if (isRefused(v)) return;
    const hit = routerOf(routes).match(v.path);
    if (!hit) return;
    const out = restAfterPrefix(v.raw, hit.prefix);
    if (out === undefined) throw new Error(`the connection point refuses ${target} under ${hit.prefix}`);
    const q = v.raw.indexOf('?');
    const query = q === -1 ? '' : v.raw.slice(q);
    assert.ok(out.endsWith(query), `query lost: ${out}`);
    const rawRest = out.slice(0, out.length - query.length);
    assert.ok((q === -1 ? v.raw : v.raw.slice(0, q)).endsWith(rawRest), `not the raw rest: ${rawRest}`);
    assert.is(decodeOnce(rawRest), hit.rest, `${target} under ${hit.prefix}`);
  },
);

class FakeChannel extends EventEmitter {
  usable = true;
  inFlight = 0;
  readonly identity: ConnectionPointIdentity = { site: 'PS1', id: 'cp01' };
  constructor(readonly manifest: { endpoints: { external: string; internal: string }[] }) {
    super();
  }
}

/** No client certificate presented: the authenticator answers as ClientAuthenticator does for none. */
const noCertificate = {
  check: async () => ({
    ok: false as const,
    refused: 'clientCertificateRequired' as const,
    reason: 'no client certificate was presented',
  }),
} as unknown as ClientAuthenticator;

checkAsync(
  "the request pipeline answers what the model answers (414, 400, 403, 404, or forwarded on the model's route)",
  scenario,
  async ({ routes, target, limit }) => {
    const registry = new ChannelRegistry();
    const channel = new FakeChannel({
      endpoints: routes.map((external) => ({ external, internal: `https://mp${external}` })),
    });
    registry.add(channel as unknown as GatewayChannel);
    const parts: PipelineParts = {
      maxUrlLength: limit,
      defaultMaxContentLength: 1000,
      auth: () => noCertificate,
      registry,
    };
    const ctx: RequestContext = { method: 'GET', target, contentLength: undefined, presented: () => [] };
    const refused = await runPipeline(ctx, parts);
    const want = modelAnswer(target, limit, routes);
    const status = refused ? Refusal[refused.refused].status : 200;
    assert.is(status, want.status, `${JSON.stringify(target)}: ${refused?.reason ?? 'forwarded'}`);
    if (!refused) {
      assert.is(ctx.route?.prefix, want.prefix, target);
      assert.is(ctx.channel, channel as unknown as GatewayChannel);
    }
  },
);

// ------------------------------------------------------------------ the model itself

test('the reference model: its UTF-8 decoder agrees with TextDecoder on random bytes', () => {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 12 }), (bytes) => {
      let want: string | undefined;
      try {
        want = strict.decode(Uint8Array.from(bytes));
      } catch {
        want = undefined;
      }
      assert.is(decodeUtf8Strict(bytes), want, JSON.stringify(bytes));
    }),
    { numRuns: Math.min(RUNS, 20_000) },
  );
});

test('the reference model: known answers', () => {
  const v = (t: string) => modelValidate(t, 64);
  assert.equal(v('/a%20b?x=%2e%2e'), { ok: true, path: '/a b', query: 'x=%2e%2e' });
  assert.equal(v('/a/'), { ok: true, path: '/a/', query: '' });
  for (const bad of [
    '/%2e%2e',
    '/.%2E',
    '/%252e',
    '/%c0%ae',
    '/a%2fb',
    '/a%5c',
    '/a\\b',
    '/%00',
    '/a//b',
    '/%ff',
    'x',
    '/a#b',
    '/%zz',
    '/?%zz',
  ])
    assert.equal(v(bad).ok, false, bad);
  assert.equal(v(`/${'a'.repeat(64)}`), { ok: false, status: 414, why: 'too long' });
  assert.equal(modelRoute('/A/b/c', ['/a', '/a/B']), { prefix: '/a/B', rest: '/c' });
  assert.equal(modelRoute('/a/bc', ['/a/b']), undefined);
  assert.equal(modelRoute('/a/b/', ['/a/b']), { prefix: '/a/b', rest: '/' });
});

test('the generators reach every verdict of the model, often enough to matter', () => {
  const counts = new Map<string, number>();
  const n = 5000;
  for (const { routes, target, limit } of fc.sample(scenario, { numRuns: n, seed: 1 })) {
    const v = modelValidate(target, limit);
    const k = v.ok
      ? `accepted, answered ${modelAnswer(target, limit, routes).status}`
      : `${v.status} ${v.why}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const verdicts = [
    'accepted, answered 200',
    'accepted, answered 403',
    'accepted, answered 404',
    '414 too long',
    '400 not origin-form',
    '400 raw byte outside visible ASCII',
    '400 raw backslash',
    '400 fragment',
    '400 bad escape',
    '400 encoded slash or backslash',
    '400 control character',
    '400 not UTF-8',
    '400 double encoding',
    '400 dot segment',
    '400 empty segment',
  ];
  for (const v of verdicts) assert.ok((counts.get(v) ?? 0) >= n / 200, `${v}: ${counts.get(v) ?? 0} of ${n}`);
  assert.ok(
    [...counts].filter(([k]) => k.startsWith('accepted')).reduce((a, [, c]) => a + c, 0) >= n / 5,
    'a fifth of the targets pass validation',
  );
});

test.run();
