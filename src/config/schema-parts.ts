import { accessSync, constants, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import { isDnsName, isReservedSiteCode, isSiteCodeSyntax } from '../names.js';

/** What a schema needs from outside the file: where relative paths start, and the environment. */
export interface ConfigContext {
  baseDir: string;
  env: NodeJS.ProcessEnv;
}

function describeFileProblem(given: string, path: string): string | undefined {
  const where = given === path ? JSON.stringify(path) : `${JSON.stringify(given)} (${path})`;
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `file not found: ${where}`;
    if (code === 'EACCES') return `cannot reach file ${where}: permission denied on a folder above it`;
    return `cannot open file ${where} (${code})`;
  }
  if (!stats.isFile()) return `expected a file, got a folder or device: ${where}`;
  try {
    accessSync(path, constants.R_OK);
  } catch {
    return `file ${where} is not readable by this user (uid ${process.getuid?.() ?? '?'}); fix its permissions or run cmg as its owner`;
  }
  return undefined;
}

/** A path to a file that must exist and be readable now; relative paths start at the config file's folder. */
export function filePath(ctx: ConfigContext) {
  return z
    .string({ error: 'expected a file path (a string)' })
    .min(1, { error: 'expected a file path, got an empty string' })
    .transform((value, tctx) => {
      const abs = isAbsolute(value) ? value : resolve(ctx.baseDir, value);
      const problem = describeFileProblem(value, abs);
      if (problem)
        tctx.addIssue({ code: 'custom', message: problem, input: value, params: { mentionsValue: true } });
      return abs;
    });
}

export function fileList(ctx: ConfigContext, options: { min?: number } = {}) {
  const list = z.array(filePath(ctx), { error: 'expected a list of file paths' });
  return options.min
    ? list.min(options.min, {
        error: `expected at least ${options.min} file path${options.min > 1 ? 's' : ''}`,
      })
    : list;
}

function describeDirProblem(given: string, path: string): string | undefined {
  const where = `${JSON.stringify(given)} (${path})`;
  try {
    return statSync(path).isDirectory() ? undefined : `exists and is not a folder: ${where}`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Missing: the daemon creates it, with any missing folders above it.
    if (code === 'ENOENT') return undefined;
    if (code !== 'ENOTDIR') return `cannot use folder ${where} (${code})`;
  }
  // ENOTDIR: something above it is a file, so the folder can never be created. Name that file.
  for (let above = dirname(path); above !== dirname(above); above = dirname(above)) {
    try {
      if (!statSync(above).isDirectory())
        return `cannot create folder ${where}: ${above} is a file, not a folder`;
      break;
    } catch {
      // Not there either (or not reachable): look further up.
    }
  }
  return `cannot create folder ${where}: a part of the path above it is a file, not a folder`;
}

/** A folder cmg writes into (logs): created on start when missing, so only a non-folder in the way is an error. */
export function dirPath(ctx: ConfigContext) {
  return z
    .string({ error: 'expected a folder path (a string)' })
    .min(1, { error: 'expected a folder path, got an empty string' })
    .transform((value, tctx) => {
      const abs = isAbsolute(value) ? value : resolve(ctx.baseDir, value);
      const problem = describeDirProblem(value, abs);
      if (problem)
        tctx.addIssue({ code: 'custom', message: problem, input: value, params: { mentionsValue: true } });
      return abs;
    });
}

/** Where a daemon writes its CMTrace logs; `logs` beside the config file unless given. */
export function logDir(ctx: ConfigContext) {
  return dirPath(ctx).default(resolve(ctx.baseDir, 'logs'));
}

export function intRange(min: number, max: number) {
  const expected = `expected an integer from ${min} to ${max}`;
  return z
    .number({ error: expected })
    .int({ error: expected })
    .min(min, { error: expected })
    .max(max, { error: expected });
}

export const port = intRange(0, 65535);
export const listenPort = intRange(1, 65535);

export const hostname = z
  .string({ error: 'expected a DNS name (a string)' })
  .refine((v) => isDnsName(v) && isIP(v) === 0, { error: 'expected a DNS name such as cmg.contoso.com' });

/** An address to bind or dial: an IPv4 or IPv6 literal or a DNS name. */
export const host = z
  .string({ error: 'expected a host (a string)' })
  .refine((v) => isIP(v) !== 0 || isDnsName(v), {
    error: 'expected an IP address (0.0.0.0, 127.0.0.1, ::) or a DNS name',
  });

/** The name a TLS peer must present: a DNS name or, for a certificate issued to one, an IP address. */
export const serverName = z
  .string({ error: 'expected a DNS name such as cmg.contoso.com (a string)' })
  .refine((v) => isIP(v) !== 0 || isDnsName(v), {
    error: "expected the DNS name on the gateway's certificate, such as cmg.contoso.com (or an IP address)",
  });

/** `scheme://` then everything up to the last "@": the user name and password, if the URL has them. */
const URL_USERINFO = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[\s\S]*@/;

/**
 * `value` with any user name and password of a URL replaced by `***`, for reports: a refused URL must not
 * carry its password to the terminal or a JSON report. Up to the last "@" even when the URL does not parse
 * (a password with a "/" in it), so an "@" in a path is masked too; only reports show this form.
 */
export function redactUrlSecrets(value: string): string {
  const match = URL_USERINFO.exec(value);
  return match ? `${match[1]}***@${value.slice(match[0].length)}` : value;
}

/**
 * A URL string that `accept` approves. A user name or password in it is refused on its own, first:
 * secrets do not belong in config files, which are copied around and printed by `cmg config check`.
 */
export function urlString(typeError: string, invalidError: string, accept: (url: URL) => boolean) {
  return z.string({ error: typeError }).superRefine((v, tctx) => {
    let url: URL | undefined;
    try {
      url = new URL(v);
    } catch {
      url = undefined;
    }
    if (url && (url.username !== '' || url.password !== '')) {
      tctx.addIssue({
        code: 'custom',
        message:
          'must not contain a user name or password: secrets do not belong in config files; remove the part before "@"',
        input: v,
      });
    } else if (!url || !accept(url)) {
      tctx.addIssue({ code: 'custom', message: invalidError, input: v });
    }
  });
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A Configuration Manager site code: three letters or digits, stored upper-case. */
export const siteCode = z
  .string({ error: 'expected a site code such as PS1 (a string)' })
  .refine(isSiteCodeSyntax, {
    error: 'expected a site code of three letters or digits, such as PS1',
  })
  .refine((v) => !isReservedSiteCode(v), {
    error: 'AUX, CON, NUL, PRN and SMS are reserved and cannot be site codes',
  })
  .transform((v) => v.toUpperCase());

/** TLS material: a PEM certificate and key, or a PFX whose passphrase comes from an environment variable. */
export function tlsMaterial(ctx: ConfigContext) {
  return z
    .strictObject({
      certFile: filePath(ctx).optional(),
      keyFile: filePath(ctx).optional(),
      pfxFile: filePath(ctx).optional(),
      passphraseEnv: z
        .string({ error: 'expected the name of an environment variable' })
        .regex(ENV_NAME, {
          error: 'expected the name of an environment variable, such as CMG_PFX_PASSPHRASE',
        })
        .optional(),
    })
    .superRefine((v, tctx) => {
      const pem = v.certFile !== undefined || v.keyFile !== undefined;
      const pfx = v.pfxFile !== undefined || v.passphraseEnv !== undefined;
      if (pem && pfx) {
        tctx.addIssue({
          code: 'custom',
          message: 'give either certFile and keyFile, or pfxFile (with passphraseEnv), not both',
        });
      } else if (pfx) {
        if (v.pfxFile === undefined) {
          tctx.addIssue({ code: 'custom', path: ['pfxFile'], message: 'is required with passphraseEnv' });
        }
        if (
          v.passphraseEnv !== undefined &&
          ENV_NAME.test(v.passphraseEnv) &&
          ctx.env[v.passphraseEnv] === undefined
        ) {
          tctx.addIssue({
            code: 'custom',
            path: ['passphraseEnv'],
            message: `environment variable ${v.passphraseEnv} is not set; set it to the PFX passphrase in the environment cmg runs in`,
            input: v.passphraseEnv,
            params: { mentionsValue: true },
          });
        }
      } else {
        if (v.certFile === undefined)
          tctx.addIssue({ code: 'custom', path: ['certFile'], message: 'is required' });
        if (v.keyFile === undefined)
          tctx.addIssue({ code: 'custom', path: ['keyFile'], message: 'is required' });
      }
    })
    .transform(
      (v): TlsMaterial =>
        v.pfxFile !== undefined
          ? { kind: 'pfx', pfxFile: v.pfxFile, passphraseEnv: v.passphraseEnv }
          : { kind: 'pem', certFile: v.certFile ?? '', keyFile: v.keyFile ?? '' },
    );
}

export type TlsMaterial =
  | { kind: 'pem'; certFile: string; keyFile: string }
  | { kind: 'pfx'; pfxFile: string; passphraseEnv: string | undefined };

export function adminEndpoint(defaultPort: number) {
  return z
    .strictObject({
      host: host.default('127.0.0.1'),
      port: port.default(defaultPort),
    })
    .prefault({});
}

/**
 * A superRefine check for a list: each entry whose key equals an earlier entry's is refused, at its own
 * index (plus `at`, a key inside the entry). `keyOf` gives undefined for an entry that is invalid in
 * itself, so that it is reported once, as invalid, and not again as a duplicate.
 */
export function noDuplicates<T>(
  keyOf: (item: T) => string | undefined,
  messageFor: (firstIndex: number) => string,
  at: string[] = [],
) {
  return (list: T[], tctx: z.RefinementCtx<T[]>) => {
    const firstAt = new Map<string, number>();
    for (const [i, item] of list.entries()) {
      const key = keyOf(item);
      if (key === undefined) continue;
      const first = firstAt.get(key);
      if (first === undefined) firstAt.set(key, i);
      else tctx.addIssue({ code: 'custom', path: [i, ...at], message: messageFor(first), input: item });
    }
  };
}

/** The site code `v` stands for, upper-cased, or undefined when it is not a valid one. */
export function siteCodeKey(v: unknown): string | undefined {
  const parsed = siteCode.safeParse(v);
  return parsed.success ? parsed.data : undefined;
}

/** How long a stopping daemon lets requests in flight finish (SIGTERM/SIGINT). */
export const drainSeconds = intRange(0, 3600).default(30);

/** How often the daemons log per-endpoint traffic, as the original's five-minute reports. */
export const trafficReportSeconds = intRange(1, 86400).default(300);

/** Client certificate checking (the gateway's, and the deployment's): roots, intermediates, CRLs. */
export function clientAuthSchema(ctx: ConfigContext) {
  return z
    .strictObject({
      trustedRootFiles: fileList(ctx, { min: 1 }),
      intermediateFiles: fileList(ctx).default([]),
      crlFiles: fileList(ctx).default([]),
      checkCrl: z.boolean({ error: 'expected true or false' }).default(false),
    })
    .refine((c) => !c.checkCrl || c.crlFiles.length > 0, {
      path: ['crlFiles'],
      error: 'checkCrl is true, so at least one CRL file is needed (or set checkCrl to false)',
    });
}

/** The sites a gateway serves (`channel.sites`): one at least, none twice. */
export const channelSites = z
  .array(siteCode, { error: 'expected a list of site codes' })
  .min(1, { error: 'expected at least one site code, such as ["PS1"]' })
  .superRefine(
    noDuplicates(siteCodeKey, (first) => `duplicate site code: already listed at channel.sites[${first}]`),
  );
