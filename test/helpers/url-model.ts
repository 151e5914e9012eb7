/**
 * A reference model of the gateway's URL rules and routing, written to be
 * obviously right rather than fast, and without any of the gateway's code:
 * the property tests in test/gateway/url-fuzz.test.ts check src/gateway/url.ts,
 * router.ts and pipeline.ts against it on adversarial input.
 *
 * The rules, from CONTRACT.md ("Answers the gateway gives") and the README
 * ("URL validation", "Routing"):
 *
 * 1. A target longer than maxUrlLength is 414, whatever else is wrong with it.
 * 2. Otherwise 400 (invalid URL) unless the target is origin-form (starts with
 *    `/`), holds only visible ASCII, and no raw `\` or `#`.
 * 3. Path and query split at the first `?`. Every `%` anywhere is followed by
 *    two hex digits.
 * 4. The path is percent-decoded exactly once, to bytes. 400 for: an escape
 *    that decodes to `/` or `\`; a decoded NUL or other ASCII control
 *    character (0x00-0x1f, 0x7f); bytes that are not strict UTF-8 (RFC 3629:
 *    no overlong forms, no surrogates, nothing over U+10FFFF), decoded here
 *    by hand; a decoded path that still holds an escape (`%2e` from `%252e`:
 *    double encoding); a C1 control character (U+0080-U+009F); a segment of
 *    only dots and spaces with at least one dot (`.`, `..`, `...`, `.. `:
 *    Windows trims trailing dots and spaces); an empty segment other than the
 *    last (`//`, a trailing `/` is fine).
 * 5. The query is forwarded as sent: only rules 2 and 3 apply to it.
 *
 * Routing: the longest published prefix whose segments equal the path's
 * first segments, ignoring case (each segment lower-cased); a published
 * prefix's trailing `/` does not count. The rest is the path after those
 * segments (`/...`, or empty). A client certificate is needed when the first
 * segment is `CCM_Proxy_MutualAuth`, ignoring case.
 */

export type ModelVerdict =
  | { ok: true; path: string; query: string }
  | { ok: false; status: 400 | 414; why: string };

const isHex = (c: string | undefined) => c !== undefined && /^[0-9A-Fa-f]$/.test(c);

/** Strict UTF-8 (RFC 3629), by hand: the text, or undefined for any ill-formed sequence. */
export function decodeUtf8Strict(bytes: readonly number[]): string | undefined {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      out += String.fromCharCode(b);
      i += 1;
      continue;
    }
    let need: number;
    let cp: number;
    let min: number;
    if (b >= 0xc0 && b <= 0xdf) {
      need = 1;
      cp = b & 0x1f;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      cp = b & 0x0f;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf7) {
      need = 3;
      cp = b & 0x07;
      min = 0x10000;
    } else {
      return undefined; // a continuation byte where a character starts, or 0xf8-0xff
    }
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min) return undefined; // overlong (%c0%ae is a dot in disguise)
    if (cp >= 0xd800 && cp <= 0xdfff) return undefined; // surrogates are not characters
    if (cp > 0x10ffff) return undefined;
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}

/** The model's verdict on a request target. */
export function modelValidate(target: string, maxUrlLength: number): ModelVerdict {
  const no = (why: string): ModelVerdict => ({ ok: false, status: 400, why });
  if (target.length > maxUrlLength) return { ok: false, status: 414, why: 'too long' };
  if (!target.startsWith('/')) return no('not origin-form');
  for (const ch of target) {
    const c = ch.codePointAt(0) as number;
    if (c < 0x21 || c > 0x7e) return no('raw byte outside visible ASCII');
    if (ch === '\\') return no('raw backslash');
    if (ch === '#') return no('fragment');
  }
  for (let i = 0; i < target.length; i++) {
    if (target[i] === '%' && !(isHex(target[i + 1]) && isHex(target[i + 2]))) return no('bad escape');
  }
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1);

  // Decode once, remembering which bytes came from an escape.
  const bytes: number[] = [];
  for (let i = 0; i < rawPath.length; i++) {
    if (rawPath[i] === '%') {
      const b = Number.parseInt(rawPath.slice(i + 1, i + 3), 16);
      if (b === 0x2f || b === 0x5c) return no('encoded slash or backslash');
      bytes.push(b);
      i += 2;
    } else {
      bytes.push(rawPath.charCodeAt(i));
    }
  }
  if (bytes.some((b) => b < 0x20 || b === 0x7f)) return no('control character');
  const path = decodeUtf8Strict(bytes);
  if (path === undefined) return no('not UTF-8');
  for (let i = 0; i < path.length; i++) {
    if (path[i] === '%' && isHex(path[i + 1]) && isHex(path[i + 2])) return no('double encoding');
  }
  for (const ch of path) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x80 && cp <= 0x9f) return no('control character');
  }
  const segments = path.split('/').slice(1);
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] ?? '';
    // Only dots and spaces, at least one dot: Windows trims trailing dots and spaces, leaving `.` or `..`.
    let dotsAndSpaces = seg.length > 0 && seg.includes('.');
    for (const ch of seg) if (ch !== '.' && ch !== ' ') dotsAndSpaces = false;
    if (dotsAndSpaces) return no('dot segment');
    if (seg === '' && i !== segments.length - 1) return no('empty segment');
  }
  return { ok: true, path, query };
}

const sameIgnoringCase = (a: string, b: string | undefined) =>
  b !== undefined && a.toLowerCase() === b.toLowerCase();

/** The longest published prefix of a (valid, decoded) path, on whole segments, ignoring case. */
export function modelRoute(
  path: string,
  prefixes: readonly string[],
): { prefix: string; rest: string } | undefined {
  const segs = path.split('/');
  let best: { prefix: string; n: number } | undefined;
  for (const prefix of prefixes) {
    const ps = prefix.replace(/\/+$/, '').split('/');
    if (ps.length > segs.length) continue;
    if (!ps.every((p, i) => sameIgnoringCase(p, segs[i]))) continue;
    if (!best || ps.length > best.n) best = { prefix, n: ps.length };
  }
  if (!best) return undefined;
  const rest = segs.length > best.n ? `/${segs.slice(best.n).join('/')}` : '';
  return { prefix: best.prefix, rest };
}

/** Does the path lie in the namespace where a client certificate is required? */
export function modelNeedsClientCertificate(path: string): boolean {
  return sameIgnoringCase('CCM_Proxy_MutualAuth', path.split('/')[1]);
}

/** What the pipeline must answer for a target, given the published prefixes, for a client without a certificate. */
export function modelAnswer(
  target: string,
  maxUrlLength: number,
  prefixes: readonly string[],
): { status: number; prefix?: string } {
  const v = modelValidate(target, maxUrlLength);
  if (!v.ok) return { status: v.status };
  if (modelNeedsClientCertificate(v.path)) return { status: 403 };
  const r = modelRoute(v.path, prefixes);
  if (!r) return { status: 404 };
  return { status: 200, prefix: r.prefix };
}
