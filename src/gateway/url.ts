import type { Refused } from './refusals.js';

/** A request target that passed validation: the path decoded once (for routing) and the raw form (to forward). */
export interface ValidTarget {
  /** Percent-decoded once; routing and namespace checks use this. */
  path: string;
  /** As the client sent it, path and query: forwarded unchanged, so the internal role decodes what we checked. */
  raw: string;
  /** Without the leading '?', undecoded; empty when absent. */
  query: string;
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** Bytes of a percent-encoded string, or the offset of the first bad escape. */
function decodeBytes(s: string): { bytes: number[] } | { badAt: number } {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return { badAt: i };
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(c);
    }
  }
  return { bytes };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Validates a request target before anything routes on it, as IIS in front of
 * a management point would, and stricter where a difference between our
 * reading and the role's could let a request reach what it should not:
 * origin-form only; no raw control characters, spaces, backslashes or
 * non-ASCII; well-formed percent-escapes decoded exactly once; no encoded `/`,
 * `\`, NUL or control characters; no double encoding (`%252e`); no `.`, `..`
 * or empty segments after decoding; valid UTF-8.
 */
export function validateTarget(target: string, maxUrlLength: number): ValidTarget | Refused {
  if (target.length > maxUrlLength) {
    return {
      refused: 'urlTooLong',
      reason: `URL of ${target.length} characters; the limit is ${maxUrlLength}`,
    };
  }
  if (!target.startsWith('/')) return { refused: 'invalidUrl', reason: 'not an origin-form request target' };
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f)
      return { refused: 'invalidUrl', reason: `raw byte 0x${c.toString(16)} at ${i}` };
    if (c === 0x5c) return { refused: 'invalidUrl', reason: `backslash at ${i}` };
    if (c === 0x23) return { refused: 'invalidUrl', reason: `fragment at ${i}` };
  }
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1);

  const decodedQuery = decodeBytes(query);
  if ('badAt' in decodedQuery)
    return { refused: 'invalidUrl', reason: `bad percent-escape in the query at ${decodedQuery.badAt}` };

  const decoded = decodeBytes(rawPath);
  if ('badAt' in decoded)
    return { refused: 'invalidUrl', reason: `bad percent-escape in the path at ${decoded.badAt}` };
  for (const b of decoded.bytes) {
    if (b < 0x20 || b === 0x7f)
      return { refused: 'invalidUrl', reason: `encoded control character 0x${b.toString(16)}` };
  }
  // Escapes that change the path's structure once decoded: the role would see another path than we route.
  if (/%(2f|5c)/i.test(rawPath))
    return { refused: 'invalidUrl', reason: 'encoded slash or backslash in the path' };
  let path: string;
  try {
    path = utf8.decode(Uint8Array.from(decoded.bytes));
  } catch {
    return { refused: 'invalidUrl', reason: 'the decoded path is not UTF-8' };
  }
  if (/%[0-9A-Fa-f]{2}/.test(path))
    return { refused: 'invalidUrl', reason: 'double percent-encoding in the path' };
  // C1 controls (U+0080-U+009F) are control characters too, only written in two UTF-8 bytes.
  const c1 = /[\u0080-\u009f]/.exec(path);
  if (c1)
    return {
      refused: 'invalidUrl',
      reason: `encoded control character U+${(c1[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`,
    };
  const segments = path.split('/').slice(1);
  for (const [i, seg] of segments.entries()) {
    // Windows drops trailing dots and spaces from a path segment: `...` and `.. ` would become `..` there.
    if (seg.length > 0 && /^[. ]+$/.test(seg) && seg.includes('.'))
      return { refused: 'invalidUrl', reason: `dot segment "${seg}"` };
    // An empty segment (//) is read differently by different servers; a trailing slash is fine.
    if (seg === '' && i < segments.length - 1)
      return { refused: 'invalidUrl', reason: 'empty path segment (//)' };
  }
  return { path, raw: target, query };
}

export function isRefused<T extends object>(value: T | Refused): value is Refused {
  return 'refused' in value;
}
