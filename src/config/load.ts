import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type * as z from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';
import {
  type ConfigDocument,
  ConfigSyntaxError,
  decodeConfigText,
  type KeyPath,
  parseConfigText,
} from './document.js';
import { type ConfigContext, redactUrlSecrets } from './schema-parts.js';

export type SchemaFactory<S extends z.ZodType> = (ctx: ConfigContext) => S;

/**
 * Reads a config file once into a typed, checked object: JSON or YAML by name,
 * relative paths resolved against the file's folder, every referenced file
 * checked, defaults filled in. Nothing downstream validates it again.
 * Every problem found is reported together, each with key path and position.
 */
export function loadConfigFile<S extends z.ZodType>(
  file: string,
  schemaFor: SchemaFactory<S>,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> & { source: string } {
  const parsed = readConfigDocument(file);
  return validateConfig(parsed.source, parsed.doc, schemaFor, env);
}

/** Reads and parses a config file (JSON or YAML by name); syntax errors are ConfigErrors with positions. */
export function readConfigDocument(file: string): { source: string; doc: ConfigDocument } {
  const source = resolve(file);
  const bytes = readConfigBytes(source);
  try {
    return { source, doc: parseConfigText(source, decodeConfigText(bytes)) };
  } catch (err) {
    if (err instanceof ConfigSyntaxError)
      throw new ConfigError(source, err.issues, { code: 'CMG_CONFIG_SYNTAX' });
    throw err;
  }
}

/** Checks a parsed document against a schema; every problem found is reported together. */
export function validateConfig<S extends z.ZodType>(
  source: string,
  doc: ConfigDocument,
  schemaFor: SchemaFactory<S>,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> & { source: string } {
  const schema = schemaFor({ baseDir: dirname(source), env });
  const result = schema.safeParse(doc.value, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(source, toConfigIssues(result.error.issues, doc, schema));
  }
  return { ...(result.data as object), source } as z.output<S> & { source: string };
}

function readConfigBytes(abs: string): Buffer {
  try {
    return readFileSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? 'config file not found'
        : code === 'EACCES'
          ? 'config file is not readable by this user; fix its permissions or run cmg as its owner'
          : code === 'EISDIR'
            ? 'expected a config file, got a folder'
            : `cannot read config file (${code ?? String(err)})`;
    throw new ConfigError(abs, [{ path: '', message }], {
      code: code === 'ENOENT' ? 'CMG_CONFIG_NOT_FOUND' : 'CMG_CONFIG_UNREADABLE',
      hint: 'Pass the path of an existing, readable JSON or YAML file with --config.',
    });
  }
}

/** `clientAuth.trustedRootFiles[1]`, the way an admin writes a key path. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

function valueAt(root: unknown, path: KeyPath): unknown {
  let node = root;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[seg];
  }
  return node;
}

function show(value: unknown): string {
  const json = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? redactUrlSecrets(v) : v));
  if (json === undefined) return String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function toConfigIssues(issues: z.core.$ZodIssue[], doc: ConfigDocument, schema: z.ZodType): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema, path);
      for (const key of issue.keys) {
        const keyPath = [...path, key];
        const suggestion = closest(key, known);
        out.push({
          path: formatKeyPath(keyPath),
          message:
            `unknown key` +
            (suggestion ? ` (did you mean "${suggestion}"?)` : '') +
            (known.length > 0 ? `; expected one of: ${known.join(', ')}` : ''),
          ...doc.locate(keyPath),
        });
      }
      continue;
    }
    const raw = valueAt(doc.value, path);
    const present = raw !== undefined;
    let message = issue.message;
    if (issue.code === 'invalid_type' && message.startsWith('Invalid input')) {
      message = `expected ${issue.expected === 'object' ? 'an object with keys' : issue.expected}`;
    }
    const mentionsValue = issue.code === 'custom' && issue.params?.['mentionsValue'] === true;
    // A password in a URL must not reach the terminal or the JSON report, whatever else is wrong with it.
    const shown = typeof raw === 'string' ? redactUrlSecrets(raw) : raw;
    if (typeof raw === 'string' && shown !== raw) message = message.split(raw).join(String(shown));
    if (!present && issue.code === 'invalid_type') message = `is required: ${message}`;
    // Say what was found, unless the message already does or it is a whole object (its keys are reported on their own).
    else if (
      present &&
      !mentionsValue &&
      !/\bgot\b/.test(message) &&
      (typeof raw !== 'object' || Array.isArray(raw))
    ) {
      message = `${message}, got ${show(raw)}`;
    }
    out.push({
      path: formatKeyPath(path),
      message,
      ...(present && typeof raw !== 'object' ? { value: shown } : {}),
      ...(present ? doc.locate(path) : doc.locate(path.slice(0, -1))),
    });
  }
  return dedupe(out).sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.line}:${i.column}:${i.path}:${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

interface ZodDefLike {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: { _zod: { def: ZodDefLike } };
  in?: { _zod: { def: ZodDefLike } };
  element?: { _zod: { def: ZodDefLike } };
}

/** The keys a strict object accepts at `path`, for an "unknown key" message that lists them. */
function knownKeys(schema: z.ZodType, path: KeyPath): string[] {
  let def = (schema as unknown as { _zod: { def: ZodDefLike } })._zod.def;
  const unwrap = () => {
    for (;;) {
      const next = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
      if (!next) return;
      def = next._zod.def;
    }
  };
  for (const seg of path) {
    unwrap();
    if (def.type === 'object' && typeof seg === 'string') {
      const child = def.shape?.[seg] as { _zod: { def: ZodDefLike } } | undefined;
      if (!child) return [];
      def = child._zod.def;
    } else if (def.type === 'array' && def.element) {
      def = def.element._zod.def;
    } else {
      return [];
    }
  }
  unwrap();
  return def.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
