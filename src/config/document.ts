import {
  createScanner,
  findNodeAtLocation,
  type Node,
  type ParseError,
  parseTree,
  printParseErrorCode,
} from 'jsonc-parser';
import YAML, { isMap, isPair, isScalar, isSeq, LineCounter, type Node as YamlNode } from 'yaml';
import type { ConfigIssue } from '../errors.js';

export type KeyPath = readonly (string | number)[];

/** A parsed config file: its plain value, and where each key stands in the text. */
export interface ConfigDocument {
  value: unknown;
  /** Line and column (1-based) of the key (or array element) at `path`, when it exists in the file. */
  locate(path: KeyPath): { line: number; column: number } | undefined;
}

/** Thrown by parseConfigText with every syntax problem found, located. */
export class ConfigSyntaxError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => i.message).join('; '));
  }
}

export function isYamlFile(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}

/** Parses JSON (strictly: no comments, no trailing commas, no duplicate keys) or YAML, by file name. */
export function parseConfigText(file: string, text: string): ConfigDocument {
  // Windows Notepad starts UTF-8 files with a byte order mark; it is not part of the content.
  const content = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return isYamlFile(file) ? parseYaml(content) : parseJson(content);
}

/**
 * The text of a config file's bytes, which must be UTF-8 (a UTF-8 byte order mark is kept for
 * parseConfigText to skip). UTF-16, what Notepad calls "Unicode", is refused in one issue rather
 * than as hundreds of syntax errors about the NUL bytes between its characters.
 */
export function decodeConfigText(bytes: Uint8Array): string {
  const [b0, b1] = bytes;
  const bom16 = (b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff);
  // Without a BOM, UTF-16 still shows as one NUL in the first two bytes: "{" is 7B 00 or 00 7B.
  const nul16 = bytes.length >= 2 && (b0 === 0) !== (b1 === 0);
  if (bom16 || nul16) {
    throw new ConfigSyntaxError([
      { path: '', message: 'the file is UTF-16; save it as UTF-8', line: 1, column: 1 },
    ]);
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** Deeper than any real config by far; the parsers and the checks after them recurse once per level. */
export const MAX_DEPTH = 64;

function tooDeep(at?: { line: number; column: number }): ConfigSyntaxError {
  return new ConfigSyntaxError([
    {
      path: '',
      message: `the file is nested too deeply: more than ${MAX_DEPTH} levels of objects and lists`,
      ...at,
    },
  ]);
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function positionOf(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
}

const JSON_ERROR_TEXT: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':' after the property name",
  CommaExpected: "expected ',' between entries",
  CloseBraceExpected: "expected '}' to close the object",
  CloseBracketExpected: "expected ']' to close the array",
  EndOfFileExpected: 'expected the end of the file after the top-level value',
  InvalidCommentToken: 'comments are not allowed in JSON (use YAML, with a .yaml file name, for comments)',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character in string',
  InvalidCharacter: 'invalid character in string (control characters must be escaped)',
};

/**
 * Offset of the first "[" or "{" deeper than MAX_DEPTH, found with jsonc-parser's own scanner (so strings
 * and comments are read exactly as parseTree reads them) and without recursion: parseTree recurses once
 * per level and overflows the stack on a few thousand. Only a closer matching the innermost opener
 * closes it, as in parseTree, so stray closers cannot hide depth from this count.
 */
function tooDeepJsonOffset(text: string): number | undefined {
  // jsonc-parser's SyntaxKind values: a const enum, which isolatedModules cannot import.
  const [openBrace, closeBrace, openBracket, closeBracket, eof] = [1, 2, 3, 4, 17];
  const scanner = createScanner(text, true);
  const open: number[] = [];
  for (let token = scanner.scan(); token !== eof; token = scanner.scan()) {
    if (token === openBrace || token === openBracket) {
      open.push(token);
      if (open.length > MAX_DEPTH) return scanner.getTokenOffset();
    } else if (
      (token === closeBrace && open.at(-1) === openBrace) ||
      (token === closeBracket && open.at(-1) === openBracket)
    ) {
      open.pop();
    }
  }
  return undefined;
}

function parseJson(text: string): ConfigDocument {
  const starts = lineStarts(text);
  const deep = tooDeepJsonOffset(text);
  if (deep !== undefined) throw tooDeep(positionOf(starts, deep));
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, {
    disallowComments: true,
    allowTrailingComma: false,
    allowEmptyContent: false,
  });
  if (text.trim() === '')
    throw new ConfigSyntaxError([{ path: '', message: 'the file is empty', line: 1, column: 1 }]);
  const issues: ConfigIssue[] = errors.map((e) => {
    const code = printParseErrorCode(e.error);
    const before = text.slice(0, e.offset);
    const trailingComma =
      (code === 'PropertyNameExpected' || code === 'ValueExpected') && /,\s*$/.test(before);
    return {
      path: '',
      message: `JSON syntax error: ${trailingComma ? 'trailing comma is not allowed' : (JSON_ERROR_TEXT[code] ?? code)}`,
      // The parser notices a trailing comma at the next token; point at the comma itself.
      ...positionOf(starts, trailingComma ? before.lastIndexOf(',') : e.offset),
    };
  });
  if (root) issues.push(...duplicateKeys(root, starts));
  if (issues.length > 0 || !root) {
    // One stray character can trip the tolerant parser several times at one spot: report it once.
    const unique = issues.filter(
      (i, n) =>
        issues.findIndex((j) => j.line === i.line && j.column === i.column && j.message === i.message) === n,
    );
    throw new ConfigSyntaxError(unique.length > 0 ? unique : [{ path: '', message: 'the file is empty' }]);
  }
  return {
    value: jsonValue(root),
    locate(path) {
      const node = findNodeAtLocation(root, [...path]);
      if (!node) return undefined;
      // Point at the key of a property rather than at its value: that is where the admin looks.
      const at = node.parent?.type === 'property' ? node.parent.offset : node.offset;
      return positionOf(starts, at);
    },
  };
}

/** JSON.parse silently keeps the last of two equal keys; a config file with both is a mistake to report. */
function duplicateKeys(node: Node, starts: number[], path: string[] = []): ConfigIssue[] {
  const found: ConfigIssue[] = [];
  if (node.type === 'object') {
    const seen = new Set<string>();
    for (const prop of node.children ?? []) {
      const key = prop.children?.[0]?.value as string;
      if (seen.has(key)) {
        found.push({
          path: [...path, key].join('.'),
          message: 'duplicate key: it appears more than once in this object',
          ...positionOf(starts, prop.offset),
        });
      }
      seen.add(key);
    }
  }
  for (const [i, child] of (node.children ?? []).entries()) {
    if (node.type === 'object') {
      const key = child.children?.[0]?.value as string;
      if (child.children?.[1]) found.push(...duplicateKeys(child.children[1], starts, [...path, key]));
    } else if (node.type === 'array') {
      found.push(...duplicateKeys(child, starts, [...path, String(i)]));
    }
  }
  return found;
}

/** Like jsonc-parser's getNodeValue, but with ordinary objects (its objects have a null prototype). */
function jsonValue(node: Node): unknown {
  switch (node.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const prop of node.children ?? []) {
        const [k, v] = prop.children ?? [];
        // Not `out[key] =`: for "__proto__" that sets the prototype, hiding the key from the schema's
        // unknown-key check while its contents are inherited as config. As JSON.parse does, make it own.
        if (k && v)
          Object.defineProperty(out, k.value as string, {
            value: jsonValue(v),
            enumerable: true,
            writable: true,
            configurable: true,
          });
      }
      return out;
    }
    case 'array':
      return (node.children ?? []).map(jsonValue);
    default:
      return node.value;
  }
}

function parseYaml(text: string): ConfigDocument {
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const issues: ConfigIssue[] = doc.errors.map((e) => {
    const pos = lineCounter.linePos(e.pos[0]);
    return { path: '', message: `YAML syntax error: ${e.message}`, line: pos.line, column: pos.col };
  });
  // The composer recurses per level and reports its own stack overflow as a syntax error.
  const overflow = doc.errors.find((e) => /Maximum call stack size exceeded/.test(e.message));
  if (overflow) {
    const pos = lineCounter.linePos(overflow.pos[0]);
    throw tooDeep({ line: pos.line, column: pos.col });
  }
  if (issues.length > 0) throw new ConfigSyntaxError(issues);
  if (doc.contents === null) throw new ConfigSyntaxError([{ path: '', message: 'the file is empty' }]);
  const deep = tooDeepYamlOffset(doc.contents);
  if (deep !== undefined) {
    const pos = lineCounter.linePos(deep);
    throw tooDeep({ line: pos.line, column: pos.col });
  }
  let value: unknown;
  try {
    // toJS makes "__proto__" keys own properties (defineProperty), so the schema sees them as unknown keys.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    if (err instanceof RangeError) throw tooDeep();
    // yaml refuses aliases that multiply the data ("billion laughs") with a ReferenceError.
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      throw new ConfigSyntaxError([
        { path: '', message: 'YAML aliases (*name) expand to too much data; write the values out instead' },
      ]);
    }
    throw err;
  }
  // Aliases can stack anchored collections deeper than the text itself is.
  if (deeperThan(value, MAX_DEPTH)) throw tooDeep();
  return {
    // Large integers (role ids) lose precision as numbers; the schema asks for strings and says why.
    value,
    locate(path) {
      let node: unknown = doc.contents;
      let at: number | undefined;
      for (const segment of path) {
        if (isMap(node)) {
          const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
          if (!pair) return undefined;
          at = (pair.key as YamlNode).range?.[0];
          node = pair.value;
        } else if (isSeq(node) && typeof segment === 'number') {
          const item = node.items[segment] as YamlNode | undefined;
          if (!item) return undefined;
          at = item.range?.[0];
          node = item;
        } else {
          return undefined;
        }
      }
      if (at === undefined) at = (doc.contents as YamlNode).range?.[0] ?? 0;
      const pos = lineCounter.linePos(at);
      return { line: pos.line, column: pos.col };
    },
  };
}

/** Offset of the first YAML collection deeper than MAX_DEPTH, walking the document without recursion. */
function tooDeepYamlOffset(root: unknown): number | undefined {
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 1 }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { node, depth } = next;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > MAX_DEPTH) return node.range?.[0] ?? 0;
    for (const item of node.items as unknown[]) {
      // A map's items are pairs: a key can be a collection too (`? [a]: b`).
      if (isPair(item))
        stack.push({ node: item.key, depth: depth + 1 }, { node: item.value, depth: depth + 1 });
      else stack.push({ node: item, depth: depth + 1 });
    }
  }
  return undefined;
}

/** Whether plain objects and arrays nest more than `limit` levels in `value`, without recursion. */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 1 }];
  // An alias is the same object in several places (or inside itself): walk it again only when deeper.
  const deepest = new Map<object, number>();
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { v, depth } = next;
    if (v === null || typeof v !== 'object' || (deepest.get(v) ?? 0) >= depth) continue;
    if (depth > limit) return true;
    deepest.set(v, depth);
    for (const child of Object.values(v)) stack.push({ v: child, depth: depth + 1 });
  }
  return false;
}
