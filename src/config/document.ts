import { findNodeAtLocation, type Node, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import YAML, { isMap, isScalar, isSeq, LineCounter, type Node as YamlNode } from 'yaml';
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
  return isYamlFile(file) ? parseYaml(text) : parseJson(text);
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

function parseJson(text: string): ConfigDocument {
  const starts = lineStarts(text);
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
        if (k && v) out[k.value as string] = jsonValue(v);
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
  if (issues.length > 0) throw new ConfigSyntaxError(issues);
  if (doc.contents === null) throw new ConfigSyntaxError([{ path: '', message: 'the file is empty' }]);
  return {
    // Large integers (role ids) lose precision as numbers; the schema asks for strings and says why.
    value: doc.toJS({ maxAliasCount: 100 }),
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
