/**
 * An emulator of the Entra ID token service, of Azure Resource Manager and of the Blob service's
 * upload operations, on loopback over real TLS, for the tests of `cmg deploy`: the real Azure SDK
 * clients (@azure/identity, @azure/arm-resources, @azure/arm-compute, @azure/storage-blob) talk to it
 * unmodified (TOOLCHAIN.md, "Azure without Azure").
 *
 * One HTTPS listener answers everything, told apart by path:
 * - `/{tenant}/v2.0/.well-known/openid-configuration`, `/{tenant}/oauth2/v2.0/token`,
 *   `/{tenant}/discovery/v2.0/keys` and `/common/discovery/instance`: Entra ID;
 * - `/blob/{account}/{container}/{blob}`: the Blob service, path style;
 * - `/subscriptions/...`: ARM (resource groups, template deployments with what-if and deployment
 *   operations, virtual machine scale sets and their instances, any other resource as a plain document).
 *
 * Clients trust it per client with `tlsOptions: { ca: emu.caPem }` (core-rest-pipeline's tlsPolicy, which
 * gives the request an https.Agent with that CA): nothing process-wide such as NODE_EXTRA_CA_CERTS.
 *
 * Long-running operations answer as ARM does (201/202 with `Azure-AsyncOperation` or `Location`), run in
 * the background on timers (`provisioningMs` per step) and can be polled as fast as a test likes. Async
 * responses carry no `Retry-After`, which would override the pollers' `updateIntervalInMs`.
 *
 * Keys of `state`: resource groups by lower-case name, deployments and scale sets by lower-case
 * `resourceGroup/name`, resources by lower-case resource id, blobs by `account/container/blob` as is.
 */
import {
  createHash,
  constants as cryptoConstants,
  sign as cryptoSign,
  verify as cryptoVerify,
  generateKeyPair as generateKeyPairCb,
  type KeyObject,
  randomBytes,
  randomUUID,
  X509Certificate,
} from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { privateKeyPem } from '../../src/certs/keys.js';
import { issue, makeRoot } from './pki.js';

// biome-ignore lint/suspicious/noExplicitAny: ARM and template documents are JSON of every shape
export type Json = any;

/** One request as the emulator saw it, with the status it answered. */
export interface EmulatedRequest {
  method: string;
  /** The path with its query string, as sent. */
  path: string;
  status: number;
  /** Request headers, names in lower case. */
  headers: Record<string, string>;
  /** When it arrived (ms since the epoch). */
  time: number;
}

export interface Injection {
  method?: string;
  /** Tested against the path alone and against the path with its query string. */
  path: RegExp;
  status: number;
  /** An object is sent as JSON, a string or Buffer as is; omitted, an error document fitting the status. */
  body?: unknown;
  headers?: Record<string, string>;
  /** How many matching requests get this answer; 1 unless said. */
  count?: number;
}

export interface ResourceFailure {
  /** Resource type, such as Microsoft.Compute/virtualMachineScaleSets (case-insensitive). */
  type?: string;
  /** Resource name as the template evaluates it (case-insensitive). */
  name?: string;
  code: string;
  message: string;
  /** How many deployments of a matching resource fail; every one unless said. */
  count?: number;
}

export interface AzureEmulator {
  /** https://127.0.0.1:PORT: the authority host, the ARM endpoint and the base of blob endpoints. */
  url: string;
  /** The test CA that issued the server certificate, to pass as `tlsOptions.ca`. */
  caPem: string;
  tenantId: string;
  subscriptionId: string;
  /** A service principal that works (client secret). */
  clientId: string;
  clientSecret: string;
  /** Registers a certificate credential (creating the client if new): the PEM certificate whose key signs client assertions. */
  addCertificateCredential(clientId: string, certPem: string): void;
  /** Denies everything to a client: ARM answers 403 AuthorizationFailed, storage 403 AuthorizationPermissionMismatch. */
  denyClient(clientId: string): void;
  /** Queues failures: the next `count` requests matching method and path get this answer. */
  inject(f: Injection): void;
  /** Makes the deployment of matching resources fail with this error, and so their deployment with DeploymentFailed. */
  failResource(f: ResourceFailure): void;
  /** How long each step of a long-running operation takes (ms): each resource of a deployment, a scale set update. 50 unless set. */
  provisioningMs: number;
  /** Every request, in arrival order. */
  requests: EmulatedRequest[];
  state: {
    resourceGroups: Map<string, Json>;
    deployments: Map<string, Json>;
    scaleSets: Map<string, Json>;
    blobs: Map<string, Buffer>;
    /** Every resource a deployment or a PUT made, scale sets included. */
    resources: Map<string, Json>;
  };
  close(): Promise<void>;
}

export interface AzureEmulatorOptions {
  tenantId?: string;
  subscriptionId?: string;
  provisioningMs?: number;
}

// ---------------------------------------------------------------- constants and small helpers

const API_VERSION = '2025-04-01';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ARM_AUDIENCES = ['https://management.azure.com', 'https://management.core.windows.net'];
const STORAGE_AUDIENCES = ['https://storage.azure.com'];
const TOKEN_LIFETIME_S = 3599;
const VMSS_TYPE = 'microsoft.compute/virtualmachinescalesets';
const STORAGE_ACCOUNT_TYPE = 'microsoft.storage/storageaccounts';
const CONTAINER_TYPE = 'microsoft.storage/storageaccounts/blobservices/containers';
const PUBLIC_IP_TYPE = 'microsoft.network/publicipaddresses';

const generateKeyPair = promisify(generateKeyPairCb);

class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Json[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** An error of template evaluation: a deployment answers it 400 InvalidTemplate. */
class TemplateError extends Error {}

/** Thrown by reference() to a resource not deployed yet while validating: evaluated later. */
class Deferred extends Error {}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function lower(s: string): string {
  return s.toLowerCase();
}

function normalizeLocation(location: unknown): string | undefined {
  return typeof location === 'string' ? location.replace(/\s+/g, '').toLowerCase() : undefined;
}

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function canonical(v: Json): string {
  return JSON.stringify(v, (_k, x) =>
    isObject(x)
      ? Object.fromEntries(
          Object.keys(x)
            .sort()
            .map((k) => [k, x[k]]),
        )
      : x,
  );
}

function deepEqual(a: Json, b: Json): boolean {
  return canonical(a) === canonical(b);
}

function stripUndefined<T extends Record<string, Json>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** ISO 8601 duration of `ms`, as ARM writes them (PT1.2345S). */
function isoDuration(ms: number): string {
  return `PT${(ms / 1000).toFixed(7).replace(/\.?0+$/, '')}S`;
}

/** A GUID derived from `parts`, stable across calls (like ARM's guid()). */
function stableGuid(...parts: string[]): string {
  const h = createHash('sha1').update(parts.join('|')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** 13 characters of [a-z2-7] derived from `parts` (ARM's uniqueString is a different hash: same shape, other values). */
function uniqueString(parts: string[]): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const digest = createHash('sha256').update(parts.join('-')).digest();
  let bits = 0n;
  for (const byte of digest.subarray(0, 9)) bits = (bits << 8n) | BigInt(byte);
  let out = '';
  for (let i = 0; i < 13; i++) out += alphabet[Number((bits >> BigInt(5 * i)) & 31n)];
  return out;
}

function lastSegment(name: string): string {
  return name.split('/').pop() ?? name;
}

/** The resource id of `type` (namespace/type[/child...]) named `name` (name[/child...]) in a resource group. */
function armResourceId(
  subscriptionId: string,
  resourceGroup: string,
  type: string,
  name: string | string[],
): string {
  const [ns, ...types] = type.split('/');
  const names = Array.isArray(name) ? name : name.split('/');
  if (!ns || types.length === 0 || types.length !== names.length || names.some((n) => n === '')) {
    throw new TemplateError(
      `The template resource '${Array.isArray(name) ? name.join('/') : name}' for type '${type}' has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name. A root resource type must have segment length one greater than its resource name. Please see https://aka.ms/arm-syntax-resources for usage details.`,
    );
  }
  let id = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${ns}`;
  types.forEach((t, i) => {
    id += `/${t}/${names[i]}`;
  });
  return id;
}

/** The id of an extension resource (such as a role assignment) on the resource `scope`. */
function extensionResourceId(scope: string, type: string, name: string): string {
  const [ns, ...types] = type.split('/');
  const names = name.split('/');
  if (!ns || types.length === 0 || types.length !== names.length) {
    throw new TemplateError(
      `The extension resource '${name}' for type '${type}' has incorrect segment lengths.`,
    );
  }
  return `${scope.replace(/\/+$/, '')}/providers/${ns}/${types.map((t, i) => `${t}/${names[i]}`).join('/')}`;
}

// ---------------------------------------------------------------- template expressions

/** What template expressions see: parameters, variables, the resource group, and reference(). */
interface EvalCtx {
  subscriptionId: string;
  tenantId: string;
  url: string;
  resourceGroup: Json;
  deploymentName: string;
  parameters: Map<string, Json>;
  variables: Map<string, Json>;
  variableCache: Map<string, Json>;
  evaluating: Set<string>;
  reference(target: string, full: boolean): Json;
}

function asText(v: Json): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function variable(ctx: EvalCtx, name: string): Json {
  const key = lower(name);
  if (ctx.variableCache.has(key)) return ctx.variableCache.get(key);
  if (!ctx.variables.has(key)) {
    throw new TemplateError(
      `The template variable '${name}' is not found. Please see https://aka.ms/arm-functions#variables for usage details.`,
    );
  }
  if (ctx.evaluating.has(key)) throw new TemplateError(`The template variable '${name}' refers to itself.`);
  ctx.evaluating.add(key);
  try {
    const value = evaluate(ctx.variables.get(key), ctx, false);
    ctx.variableCache.set(key, value);
    return value;
  } finally {
    ctx.evaluating.delete(key);
  }
}

function resourceIdFunction(args: Json[], ctx: EvalCtx, scope: 'group' | 'subscription'): string {
  const a = args.map(asText);
  const t = a.findIndex((x) => x.includes('/'));
  if (t < 0)
    throw new TemplateError("Unable to evaluate template language function 'resourceId': no resource type.");
  if (scope === 'subscription') {
    const sub = t >= 1 ? a[0]! : ctx.subscriptionId;
    const [ns, ...types] = a[t]!.split('/');
    const names = a.slice(t + 1);
    return `/subscriptions/${sub}/providers/${ns}/${types.map((x, i) => `${x}/${names[i]}`).join('/')}`;
  }
  if (t > 2) throw new TemplateError("Unable to evaluate template language function 'resourceId'.");
  const sub = t === 2 ? a[0]! : ctx.subscriptionId;
  const rg = t === 2 ? a[1]! : t === 1 ? a[0]! : (ctx.resourceGroup.name as string);
  return armResourceId(sub, rg, a[t]!, a.slice(t + 1));
}

const FUNCTIONS: Record<string, (args: Json[], ctx: EvalCtx) => Json> = {
  parameters: ([n], c) => {
    const key = lower(asText(n));
    if (!c.parameters.has(key)) throw new TemplateError(`The template parameter '${n}' is not found.`);
    return c.parameters.get(key);
  },
  variables: ([n], c) => variable(c, asText(n)),
  concat: (a) => (a.length > 0 && a.every(Array.isArray) ? a.flat() : a.map(asText).join('')),
  format: ([f, ...rest]) => asText(f).replace(/\{(\d+)(?::[^}]*)?\}/g, (_m, i) => asText(rest[Number(i)])),
  resourceid: (a, c) => resourceIdFunction(a, c, 'group'),
  subscriptionresourceid: (a, c) => resourceIdFunction(a, c, 'subscription'),
  resourcegroup: (_a, c) => c.resourceGroup,
  subscription: (_a, c) => ({
    id: `/subscriptions/${c.subscriptionId}`,
    subscriptionId: c.subscriptionId,
    tenantId: c.tenantId,
    displayName: 'cmg emulator',
  }),
  tenant: (_a, c) => ({ tenantId: c.tenantId, countryCode: 'US', displayName: 'cmg emulator' }),
  deployment: (_a, c) => ({ name: c.deploymentName, properties: {} }),
  environment: (_a, c) => ({
    name: 'AzureCloud',
    resourceManager: `${c.url}/`,
    authentication: {
      loginEndpoint: `${c.url}/`,
      audiences: ['https://management.core.windows.net/', 'https://management.azure.com/'],
    },
    suffixes: { storage: 'core.windows.net' },
  }),
  tolower: ([s]) => asText(s).toLowerCase(),
  toupper: ([s]) => asText(s).toUpperCase(),
  trim: ([s]) => asText(s).trim(),
  string: ([v]) => asText(v),
  int: ([v]) => {
    const n = typeof v === 'number' ? Math.trunc(v) : Number.parseInt(asText(v), 10);
    if (Number.isNaN(n)) throw new TemplateError(`The template function 'int' cannot convert '${v}'.`);
    return n;
  },
  bool: ([v]) => (typeof v === 'boolean' ? v : lower(asText(v)) === 'true' || v === 1),
  length: ([v]) => (typeof v === 'string' || Array.isArray(v) ? v.length : Object.keys(v ?? {}).length),
  empty: ([v]) =>
    v === null ||
    v === undefined ||
    ((typeof v === 'string' || Array.isArray(v)) && v.length === 0) ||
    (isObject(v) && Object.keys(v).length === 0),
  equals: ([a, b]) => deepEqual(a, b),
  not: ([a]) => !a,
  and: (a) => a.every(Boolean),
  or: (a) => a.some(Boolean),
  if: ([cond, a, b]) => (cond ? a : b),
  contains: ([h, n]) => {
    if (typeof h === 'string') return h.includes(asText(n));
    if (Array.isArray(h)) return h.some((x) => deepEqual(x, n));
    return isObject(h) && Object.keys(h).some((k) => lower(k) === lower(asText(n)));
  },
  startswith: ([s, p]) => lower(asText(s)).startsWith(lower(asText(p))),
  endswith: ([s, p]) => lower(asText(s)).endsWith(lower(asText(p))),
  split: ([s, d]) => {
    const delimiters = (Array.isArray(d) ? d : [d]).map(asText);
    return asText(s).split(
      new RegExp(delimiters.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')),
    );
  },
  replace: ([s, a, b]) => asText(s).split(asText(a)).join(asText(b)),
  substring: ([s, i, n]) =>
    asText(s).slice(Number(i ?? 0), n === undefined ? undefined : Number(i ?? 0) + Number(n)),
  indexof: ([s, x]) => lower(asText(s)).indexOf(lower(asText(x))),
  lastindexof: ([s, x]) => lower(asText(s)).lastIndexOf(lower(asText(x))),
  padleft: ([v, n, ch]) => asText(v).padStart(Number(n), ch === undefined ? ' ' : asText(ch)),
  first: ([v]) => (typeof v === 'string' ? v.slice(0, 1) : v?.[0]),
  last: ([v]) => (typeof v === 'string' ? v.slice(-1) : v?.[v.length - 1]),
  take: ([v, n]) => v.slice(0, Number(n)),
  skip: ([v, n]) => v.slice(Number(n)),
  union: (a) =>
    Array.isArray(a[0])
      ? a.flat().filter((x, i, all) => all.findIndex((y) => deepEqual(x, y)) === i)
      : Object.assign({}, ...a),
  createobject: (a) => Object.fromEntries(a.flatMap((x, i) => (i % 2 === 0 ? [[asText(x), a[i + 1]]] : []))),
  createarray: (a) => a,
  array: ([v]) => (Array.isArray(v) ? v : [v]),
  json: ([s]) => JSON.parse(asText(s)),
  coalesce: (a) => a.find((x) => x !== null && x !== undefined) ?? null,
  uniquestring: (a) => uniqueString(a.map(asText)),
  guid: (a) => stableGuid(...a.map(asText)),
  base64: ([s]) => Buffer.from(asText(s)).toString('base64'),
  add: ([a, b]) => Number(a) + Number(b),
  sub: ([a, b]) => Number(a) - Number(b),
  mul: ([a, b]) => Number(a) * Number(b),
  div: ([a, b]) => Math.trunc(Number(a) / Number(b)),
  mod: ([a, b]) => Number(a) % Number(b),
  min: (a) => Math.min(...a.flat().map(Number)),
  max: (a) => Math.max(...a.flat().map(Number)),
  range: ([s, n]) => Array.from({ length: Number(n) }, (_x, i) => Number(s) + i),
  true: () => true,
  false: () => false,
  null: () => null,
  utcnow: () => new Date().toISOString(),
  reference: ([target, _apiVersion, full], c) => c.reference(asText(target), lower(asText(full)) === 'full'),
};

function access(v: Json, k: Json): Json {
  if (Array.isArray(v) && typeof k === 'number') {
    if (k < 0 || k >= v.length) {
      throw new TemplateError(`The language expression property array index '${k}' is out of bounds.`);
    }
    return v[k];
  }
  if (isObject(v)) {
    const key = Object.keys(v).find((x) => lower(x) === lower(asText(k)));
    if (key === undefined) {
      throw new TemplateError(
        `The language expression property '${k}' doesn't exist, available properties are '${Object.keys(v).join(', ')}'.`,
      );
    }
    return v[key];
  }
  throw new TemplateError(`The language expression property '${k}' can't be evaluated.`);
}

/** A recursive-descent evaluator of one ARM template language expression (the text between the brackets). */
class Expression {
  private i = 0;

  constructor(
    private readonly src: string,
    private readonly ctx: EvalCtx,
  ) {}

  run(): Json {
    const v = this.expr();
    this.ws();
    if (this.i < this.src.length) throw this.fail(`unexpected '${this.src.slice(this.i)}'`);
    return v;
  }

  private fail(what: string): TemplateError {
    return new TemplateError(`The template language expression '${this.src}' is not valid: ${what}.`);
  }

  private ws(): void {
    while (/\s/.test(this.src[this.i] ?? '')) this.i++;
  }

  private expect(ch: string): void {
    this.ws();
    if (this.src[this.i] !== ch) throw this.fail(`expected '${ch}' at position ${this.i}`);
    this.i++;
  }

  private ident(): string {
    this.ws();
    const m = /^[A-Za-z_$][A-Za-z0-9_$-]*/.exec(this.src.slice(this.i));
    if (!m) throw this.fail(`expected a name at position ${this.i}`);
    this.i += m[0].length;
    return m[0];
  }

  private expr(): Json {
    this.ws();
    const c = this.src[this.i] ?? '';
    let v: Json;
    if (c === "'") v = this.text();
    else if (/[-\d]/.test(c)) v = this.number();
    else if (/[A-Za-z_]/.test(c)) v = this.call();
    else throw this.fail(`expected an expression at position ${this.i}`);
    for (;;) {
      this.ws();
      const next = this.src[this.i];
      if (next === '.') {
        this.i++;
        v = access(v, this.ident());
      } else if (next === '[') {
        this.i++;
        const key = this.expr();
        this.expect(']');
        v = access(v, key);
      } else {
        return v;
      }
    }
  }

  private text(): string {
    let out = '';
    this.i++;
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined) throw this.fail('unterminated string');
      this.i++;
      if (c === "'") {
        if (this.src[this.i] !== "'") return out;
        this.i++;
      }
      out += c;
    }
  }

  private number(): number {
    const m = /^-?\d+(\.\d+)?/.exec(this.src.slice(this.i));
    if (!m) throw this.fail(`expected a number at position ${this.i}`);
    this.i += m[0].length;
    return Number(m[0]);
  }

  private call(): Json {
    const name = this.ident();
    this.expect('(');
    const args: Json[] = [];
    this.ws();
    if (this.src[this.i] === ')') {
      this.i++;
    } else {
      for (;;) {
        args.push(this.expr());
        this.ws();
        if (this.src[this.i] === ',') {
          this.i++;
          continue;
        }
        this.expect(')');
        break;
      }
    }
    const fn = FUNCTIONS[lower(name)];
    if (!fn) {
      throw new TemplateError(
        `The template function '${name}' is not valid. Please see https://aka.ms/arm-functions for usage details.`,
      );
    }
    return fn(args, this.ctx);
  }
}

/**
 * Evaluates the expressions in a template value. With `keepDeferred`, a string whose evaluation needs a
 * resource not deployed yet stays as written (validation and what-if do that, as ARM does).
 */
function evaluate(v: Json, ctx: EvalCtx, keepDeferred: boolean): Json {
  if (typeof v === 'string') {
    if (v.startsWith('[[')) return v.slice(1);
    if (!(v.startsWith('[') && v.endsWith(']'))) return v;
    try {
      return new Expression(v.slice(1, -1), ctx).run();
    } catch (err) {
      if (keepDeferred && err instanceof Deferred) return v;
      throw err;
    }
  }
  if (Array.isArray(v)) return v.map((x) => evaluate(x, ctx, keepDeferred));
  if (isObject(v)) {
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v))
      out[asText(evaluate(k, ctx, false))] = evaluate(x, ctx, keepDeferred);
    return out;
  }
  return v;
}

// ---------------------------------------------------------------- templates

interface TemplateResource {
  /** The symbolic name (languageVersion 2.0) or the index in `resources`. */
  symbol: string;
  id: string;
  type: string;
  name: string;
  apiVersion: string;
  raw: Json;
  dependsOn: string[];
}

interface Compiled {
  mode: 'Incremental' | 'Complete';
  template: Json;
  /** Parameters as ARM shows them on the deployment (type and value, secure values left out). */
  parameters: Record<string, Json>;
  /** Resources to deploy, conditions true, in deployment order (dependencies first). */
  resources: TemplateResource[];
  /** A fresh evaluation context whose reference() is `reference`. */
  ctx(reference: (id: string, full: boolean) => Json): EvalCtx;
  templateHash: string;
}

/** The part of a resource that a template declares and that what-if compares. */
const CONTENT_KEYS = [
  'location',
  'kind',
  'sku',
  'tags',
  'identity',
  'zones',
  'plan',
  'extendedLocation',
  'properties',
];

function contentOf(r: TemplateResource, ctx: EvalCtx, keepDeferred: boolean): Json {
  const out: Record<string, Json> = {};
  for (const key of CONTENT_KEYS) {
    if (r.raw[key] !== undefined) out[key] = evaluate(r.raw[key], ctx, keepDeferred);
  }
  return out;
}

const PARAMETER_TYPES: Record<string, string> = {
  string: 'String',
  securestring: 'SecureString',
  int: 'Int',
  bool: 'Bool',
  object: 'Object',
  secureobject: 'SecureObject',
  array: 'Array',
};

function checkParameterType(name: string, type: string, value: Json): void {
  const t = lower(type);
  const ok =
    t === 'string' || t === 'securestring'
      ? typeof value === 'string'
      : t === 'int'
        ? Number.isInteger(value)
        : t === 'bool'
          ? typeof value === 'boolean'
          : t === 'array'
            ? Array.isArray(value)
            : isObject(value);
  if (!ok) {
    throw new TemplateError(
      `Template parameter JToken type is not valid. Expected '${PARAMETER_TYPES[t] ?? type}'. Actual '${Array.isArray(value) ? 'Array' : typeof value}'. Please see https://aka.ms/arm-create-parameter-file for usage details. (parameter '${name}')`,
    );
  }
}

// ---------------------------------------------------------------- the emulator

interface Client {
  clientId: string;
  objectId: string;
  secret?: string;
  certificates: X509Certificate[];
  denied: boolean;
}

interface Token {
  clientId: string;
  objectId: string;
  audience: string;
  expiresAt: number;
}

interface AsyncOp {
  id: string;
  status: 'InProgress' | 'Running' | 'Succeeded' | 'Failed' | 'Canceled';
  startTime: string;
  endTime?: string;
  error?: Json;
  /** The body a Location poll answers once done. */
  result?: Json;
}

interface DeploymentRun {
  json: Json;
  compiled: Compiled;
  ops: Json[];
  op: AsyncOp;
  active: boolean;
  canceled: boolean;
}

interface BlobMeta {
  etag: string;
  lastModified: string;
  created: string;
  contentType: string;
  contentMd5: string;
  committed: { id: string; data: Buffer }[];
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: URL;
  body: Buffer;
  entry: EmulatedRequest;
  segs: string[];
  low: string[];
  client?: Client;
}

type PowerState = 'running' | 'deallocated' | 'deallocating' | 'starting' | 'stopped' | 'stopping';

const POWER_DISPLAY: Record<PowerState, string> = {
  running: 'VM running',
  deallocated: 'VM deallocated',
  deallocating: 'VM deallocating',
  starting: 'VM starting',
  stopped: 'VM stopped',
  stopping: 'VM stopping',
};

/** Starts an emulator on 127.0.0.1 (a free port) with a fresh test CA, tenant, subscription and service principal. */
export async function startAzureEmulator(options: AzureEmulatorOptions = {}): Promise<AzureEmulator> {
  const root = await makeRoot({ subject: 'CN=Azure emulator test CA' });
  const leaf = await issue('server', root, {
    subject: 'CN=localhost',
    dns: ['localhost'],
    ips: ['127.0.0.1'],
  });
  const signing = await generateKeyPair('rsa', { modulusLength: 2048 });
  const signingKid = b64url(randomBytes(20));

  const tenantId = options.tenantId ?? randomUUID();
  const subscriptionId = options.subscriptionId ?? randomUUID();
  const clientId = randomUUID();
  const clientSecret = `${b64url(randomBytes(3)).replace(/[-_]/g, 'a')}8Q~${b64url(randomBytes(27)).replace(/[-_]/g, 'x')}`;

  const clients = new Map<string, Client>();
  const tokens = new Map<string, Token>();
  const injections: (Injection & { remaining: number })[] = [];
  const failures: (ResourceFailure & { remaining: number })[] = [];
  const requests: EmulatedRequest[] = [];
  const asyncOps = new Map<string, AsyncOp>();
  const runs = new Map<string, DeploymentRun>();
  const desired = new Map<string, Json>();
  const powers = new Map<string, PowerState[]>();
  const containers = new Set<string>();
  const blobMeta = new Map<string, BlobMeta>();
  const uncommitted = new Map<string, Map<string, Buffer>>();
  const timers = new Set<NodeJS.Timeout>();
  const state: AzureEmulator['state'] = {
    resourceGroups: new Map(),
    deployments: new Map(),
    scaleSets: new Map(),
    blobs: new Map(),
    resources: new Map(),
  };
  let url = '';
  let closed = false;

  const addClient = (id: string): Client => {
    let c = clients.get(lower(id));
    if (!c) {
      c = { clientId: id, objectId: stableGuid('object', id), certificates: [], denied: false };
      clients.set(lower(id), c);
    }
    return c;
  };
  addClient(clientId).secret = clientSecret;

  const emu: AzureEmulator = {
    url: '',
    caPem: root.cert.toPem(),
    tenantId,
    subscriptionId,
    clientId,
    clientSecret,
    addCertificateCredential(id, certPem) {
      addClient(id).certificates.push(new X509Certificate(certPem));
    },
    denyClient(id) {
      addClient(id).denied = true;
    },
    inject(f) {
      injections.push({ ...f, remaining: f.count ?? 1 });
    },
    failResource(f) {
      failures.push({ ...f, remaining: f.count ?? Number.POSITIVE_INFINITY });
    },
    provisioningMs: options.provisioningMs ?? 50,
    requests,
    state,
    close: async () => {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  /** Resolves after `ms`, or never once the emulator is closed. */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (closed) return;
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const now = () => new Date().toISOString();

  // ------------------------------------------------------------ responses

  function send(
    ctx: Ctx,
    status: number,
    body?: Json,
    headers: Record<string, string | number> = {},
    contentType = 'application/json; charset=utf-8',
  ): void {
    ctx.entry.status = status;
    let payload: Buffer | undefined;
    const h: Record<string, string | number> = { Date: new Date().toUTCString(), ...headers };
    if (Buffer.isBuffer(body)) payload = body;
    else if (typeof body === 'string') payload = Buffer.from(body);
    else if (body !== undefined) payload = Buffer.from(JSON.stringify(body));
    if (payload && !Object.keys(h).some((k) => lower(k) === 'content-type')) h['Content-Type'] = contentType;
    if (!Object.keys(h).some((k) => lower(k) === 'content-length'))
      h['Content-Length'] = payload?.length ?? 0;
    ctx.res.writeHead(status, h);
    ctx.res.end(ctx.method === 'HEAD' ? undefined : payload);
  }

  function armHeaders(ctx: Ctx): Record<string, string> {
    const write = !['GET', 'HEAD'].includes(ctx.method);
    return {
      'Cache-Control': 'no-cache',
      Pragma: 'no-cache',
      Expires: '-1',
      'x-ms-request-id': randomUUID(),
      'x-ms-correlation-request-id': ctx.req.headers['x-ms-client-request-id']?.toString() ?? randomUUID(),
      [`x-ms-ratelimit-remaining-subscription-${write ? 'writes' : 'reads'}`]: write ? '1199' : '11999',
      'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
    };
  }

  function armSend(ctx: Ctx, status: number, body?: Json, headers: Record<string, string> = {}): void {
    send(ctx, status, body, { ...armHeaders(ctx), ...headers });
  }

  function armFail(ctx: Ctx, err: ArmError): void {
    const error: Json = { code: err.code, message: err.message };
    if (err.details) error.details = err.details;
    armSend(ctx, err.status, { error }, { 'x-ms-failure-cause': 'gateway', ...err.headers });
  }

  function aadFail(ctx: Ctx, status: number, error: string, code: number, description: string): void {
    const traceId = randomUUID();
    const correlationId = ctx.req.headers['client-request-id']?.toString() ?? randomUUID();
    const timestamp = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    send(
      ctx,
      status,
      {
        error,
        error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
        error_codes: [code],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `${url}/error?code=${code}`,
      },
      { 'Cache-Control': 'no-store, no-cache', 'x-ms-request-id': traceId },
    );
  }

  function storageFail(
    ctx: Ctx,
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ) {
    const requestId = randomUUID();
    const xml = `\uFEFF<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\nRequestId:${requestId}\nTime:${now()}</Message></Error>`;
    send(
      ctx,
      status,
      xml,
      { ...storageHeaders(ctx), 'x-ms-request-id': requestId, 'x-ms-error-code': code, ...headers },
      'application/xml',
    );
  }

  // ------------------------------------------------------------ Entra ID

  function issuer(tenant: string): string {
    return `${url}/${tenant}/v2.0`;
  }

  function tokenEndpoint(tenant: string): string {
    return `${url}/${tenant}/oauth2/v2.0/token`;
  }

  function openIdConfiguration(tenant: string): Json {
    const base = `${url}/${tenant}`;
    return {
      token_endpoint: tokenEndpoint(tenant),
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: issuer(tenant),
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${url}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'tid', 'ver', 'oid'],
      kerberos_endpoint: `${base}/kerberos`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }

  function jwks(): Json {
    const jwk = signing.publicKey.export({ format: 'jwk' });
    return { keys: [{ kty: 'RSA', use: 'sig', kid: signingKid, x5t: signingKid, n: jwk.n, e: jwk.e }] };
  }

  function issueToken(client: Client, scope: string, appidacr: '1' | '2'): Json {
    const audience = scope.replace(/\/\.default$/, '');
    const iat = Math.floor(Date.now() / 1000);
    const claims = {
      aud: audience,
      iss: `https://sts.windows.net/${tenantId}/`,
      iat,
      nbf: iat,
      exp: iat + TOKEN_LIFETIME_S,
      aio: b64url(randomBytes(24)),
      appid: client.clientId,
      appidacr,
      idp: `https://sts.windows.net/${tenantId}/`,
      idtyp: 'app',
      oid: client.objectId,
      rh: `0.${b64url(randomBytes(24))}.`,
      sub: client.objectId,
      tid: tenantId,
      uti: b64url(randomBytes(16)),
      ver: '1.0',
    };
    const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5t: signingKid, kid: signingKid }));
    const data = `${head}.${b64url(JSON.stringify(claims))}`;
    const token = `${data}.${b64url(cryptoSign('sha256', Buffer.from(data), signing.privateKey))}`;
    tokens.set(token, {
      clientId: client.clientId,
      objectId: client.objectId,
      audience,
      expiresAt: (iat + TOKEN_LIFETIME_S) * 1000,
    });
    return {
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_S,
      ext_expires_in: TOKEN_LIFETIME_S,
      access_token: token,
    };
  }

  /** Verifies a client assertion (RFC 7523) against the client's certificates; an error description or undefined. */
  function checkAssertion(assertion: string, client: Client, tenant: string): [number, string] | undefined {
    const parts = assertion.split('.');
    let header: Json;
    let claims: Json;
    try {
      header = JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8'));
    } catch {
      return [50027, 'JWT token is invalid or malformed.'];
    }
    if (parts.length !== 3 || !isObject(header) || !isObject(claims)) {
      return [50027, 'JWT token is invalid or malformed.'];
    }
    const sha256 = header['x5t#S256'];
    const sha1 = header.x5t;
    const cert = client.certificates.find((c) =>
      typeof sha256 === 'string'
        ? b64url(createHash('sha256').update(c.raw).digest()) === sha256
        : typeof sha1 === 'string' && b64url(createHash('sha1').update(c.raw).digest()) === sha1,
    );
    const given = Buffer.from(String(sha256 ?? sha1 ?? ''), 'base64url')
      .toString('hex')
      .toUpperCase();
    if (!cert) {
      return [
        700027,
        `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${given}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${client.clientId}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/${client.clientId}']`,
      ];
    }
    if (Date.parse(cert.validTo) < Date.now()) {
      return [7000277, `The certificate used to sign the client assertion expired on ${cert.validTo}.`];
    }
    const data = Buffer.from(`${parts[0]}.${parts[1]}`);
    const signature = Buffer.from(parts[2] ?? '', 'base64url');
    const key: KeyObject = cert.publicKey;
    let valid = false;
    try {
      if (header.alg === 'RS256') valid = cryptoVerify('sha256', data, key, signature);
      else if (header.alg === 'PS256') {
        valid = cryptoVerify(
          'sha256',
          data,
          {
            key,
            padding: cryptoConstants.RSA_PKCS1_PSS_PADDING,
            saltLength: cryptoConstants.RSA_PSS_SALTLEN_DIGEST,
          },
          signature,
        );
      } else if (header.alg === 'ES256') {
        valid = cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
      } else {
        return [5002738, `Invalid JWT token. '${header.alg}' is not a supported signature algorithm.`];
      }
    } catch {
      valid = false;
    }
    if (!valid) return [700027, 'Client assertion failed signature validation.'];
    if (claims.iss !== client.clientId || claims.sub !== client.clientId) {
      return [
        700021,
        "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .",
      ];
    }
    const audiences = [tokenEndpoint(tenant), issuer(tenant), `${url}/${tenant}/`, `${url}/${tenant}`].map(
      lower,
    );
    if (!audiences.includes(lower(String(claims.aud)))) {
      return [
        700212,
        `No matching audience found for the client assertion: the audience '${claims.aud}' is not '${tokenEndpoint(tenant)}'.`,
      ];
    }
    const t = Date.now() / 1000;
    if (
      typeof claims.exp !== 'number' ||
      claims.exp < t - 300 ||
      (typeof claims.nbf === 'number' && claims.nbf > t + 300)
    ) {
      return [
        700024,
        `Client assertion is not within its valid time range. Current time: ${new Date().toISOString()}, expiry time of assertion ${typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : 'missing'}.`,
      ];
    }
    return undefined;
  }

  function tokenRequest(ctx: Ctx, tenant: string): void {
    if (ctx.method !== 'POST') {
      aadFail(
        ctx,
        400,
        'invalid_request',
        900561,
        'The endpoint only accepts POST requests. Received a GET request.',
      );
      return;
    }
    const form = new URLSearchParams(ctx.body.toString('utf8'));
    const basic = /^Basic (.+)$/i.exec(ctx.req.headers.authorization ?? '');
    let id = form.get('client_id') ?? undefined;
    let secret = form.get('client_secret') ?? undefined;
    if (basic?.[1]) {
      const [u, p] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      id ??= decodeURIComponent(u ?? '');
      secret ??= decodeURIComponent(p ?? '');
    }
    const grant = form.get('grant_type');
    const scope = form.get('scope');
    if (!grant) {
      aadFail(
        ctx,
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'grant_type'.",
      );
      return;
    }
    if (grant !== 'client_credentials') {
      aadFail(
        ctx,
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grant}'.`,
      );
      return;
    }
    if (!id) {
      aadFail(
        ctx,
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'client_id'.",
      );
      return;
    }
    if (!scope) {
      aadFail(
        ctx,
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'scope'.",
      );
      return;
    }
    const scopes = scope.split(' ').filter((s) => s !== '');
    const resourceScope = scopes.find((s) => s.endsWith('/.default'));
    if (!resourceScope) {
      aadFail(
        ctx,
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
      return;
    }
    const client = clients.get(lower(id));
    if (!client) {
      aadFail(
        ctx,
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${id}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
      return;
    }
    const assertion = form.get('client_assertion');
    if (assertion !== null) {
      if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
        aadFail(
          ctx,
          400,
          'invalid_request',
          90014,
          `The required field 'client_assertion_type' is missing or is not '${CLIENT_ASSERTION_TYPE}'.`,
        );
        return;
      }
      const problem = checkAssertion(assertion, client, tenant);
      if (problem) {
        aadFail(ctx, 401, 'invalid_client', problem[0], problem[1]);
        return;
      }
      send(ctx, 200, issueToken(client, resourceScope, '2'), { 'Cache-Control': 'no-store, no-cache' });
      return;
    }
    if (secret === undefined) {
      aadFail(
        ctx,
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
      return;
    }
    if (client.secret === undefined || client.secret !== secret) {
      aadFail(
        ctx,
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${client.clientId}'.`,
      );
      return;
    }
    send(ctx, 200, issueToken(client, resourceScope, '1'), { 'Cache-Control': 'no-store, no-cache' });
  }

  /** Answers Entra ID requests; false when the path is not one. */
  function entra(ctx: Ctx): boolean {
    const [first, ...rest] = ctx.low;
    const path = rest.join('/');
    if (first === 'common' && path === 'discovery/instance') {
      const host = new URL(url).host;
      send(ctx, 200, {
        tenant_discovery_endpoint: `${url}/${tenantId}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      });
      return true;
    }
    const known = [
      'v2.0/.well-known/openid-configuration',
      '.well-known/openid-configuration',
      'oauth2/v2.0/token',
      'discovery/v2.0/keys',
      'discovery/keys',
    ];
    if (!first || !known.includes(path)) return false;
    const tenant = ctx.segs[0]!;
    if (lower(tenant) !== lower(tenantId)) {
      aadFail(
        ctx,
        400,
        'invalid_tenant',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
      );
      return true;
    }
    if (path.endsWith('openid-configuration')) send(ctx, 200, openIdConfiguration(tenant));
    else if (path.includes('keys')) send(ctx, 200, jwks());
    else tokenRequest(ctx, tenant);
    return true;
  }

  /** The caller of a bearer-token request, or why it is refused: [status, code, message]. */
  function bearer(ctx: Ctx, audiences: string[]): Client | [number, string, string] {
    const m = /^Bearer\s+(\S+)$/i.exec(ctx.req.headers.authorization ?? '');
    if (!m?.[1])
      return [401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing."];
    const token = tokens.get(m[1]);
    if (!token) return [401, 'InvalidAuthenticationToken', 'The access token is invalid.'];
    if (token.expiresAt < Date.now()) {
      return [
        401,
        'ExpiredAuthenticationToken',
        `The access token expiry UTC time '${new Date(token.expiresAt).toUTCString()}' is earlier than current UTC time '${new Date().toUTCString()}'.`,
      ];
    }
    const aud = token.audience.replace(/\/+$/, '');
    if (!audiences.map((a) => lower(a.replace(/\/+$/, ''))).includes(lower(aud))) {
      return [
        401,
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${token.audience}'. It should exactly match with one of the allowed audiences '${audiences.flatMap((a) => [`${a}/`, a]).join("','")}'.`,
      ];
    }
    return clients.get(lower(token.clientId))!;
  }

  // ------------------------------------------------------------ ARM: authorization

  /** The RBAC action and scope a request needs, as ARM names them in AuthorizationFailed. */
  function actionOf(ctx: Ctx): [string, string] {
    const segs = ctx.segs;
    const verb = ['GET', 'HEAD'].includes(ctx.method)
      ? 'read'
      : ['PUT', 'PATCH'].includes(ctx.method)
        ? 'write'
        : ctx.method === 'DELETE'
          ? 'delete'
          : 'action';
    const scopeSegs = ctx.method === 'POST' ? segs.slice(0, -1) : segs;
    const scope = `/${scopeSegs.join('/')}`;
    const p = ctx.low.lastIndexOf('providers');
    let types: string[];
    let ns: string;
    if (p >= 0 && segs.length > p + 1) {
      ns = segs[p + 1]!;
      types = segs.slice(p + 2).filter((_s, i) => i % 2 === 0);
    } else if (ctx.low[4] === 'deployments') {
      ns = 'Microsoft.Resources';
      types = segs.slice(4).filter((_s, i) => i % 2 === 0);
    } else {
      ns = 'Microsoft.Resources';
      types = segs.filter((_s, i) => i % 2 === 0);
    }
    if (verb === 'action') return [`${ns}/${types.join('/')}/action`, scope];
    return [`${ns}/${types.join('/')}/${verb}`, scope];
  }

  // ------------------------------------------------------------ ARM: async operations

  function newOp(): AsyncOp {
    const op: AsyncOp = { id: randomUUID(), status: 'InProgress', startTime: now() };
    asyncOps.set(op.id, op);
    return op;
  }

  function finishOp(op: AsyncOp, status: AsyncOp['status'], error?: Json, result?: Json): void {
    op.status = status;
    op.endTime = now();
    if (error) op.error = error;
    if (result !== undefined) op.result = result;
  }

  function apiVersionOf(ctx: Ctx): string {
    return ctx.url.searchParams.get('api-version') ?? API_VERSION;
  }

  /** The `Location` of a subscription-level operation result (resource group delete, what-if). */
  function operationResultUrl(ctx: Ctx, op: AsyncOp): string {
    return `${url}/subscriptions/${subscriptionId}/operationresults/${op.id}?api-version=${apiVersionOf(ctx)}`;
  }

  function computeOpUrls(
    ctx: Ctx,
    location: string,
    op: AsyncOp,
  ): { asyncOperation: string; location: string } {
    const base = `${url}/subscriptions/${subscriptionId}/providers/Microsoft.Compute/locations/${location}/operations/${op.id}`;
    const p = randomUUID();
    return {
      asyncOperation: `${base}?p=${p}&api-version=${apiVersionOf(ctx)}`,
      location: `${base}?p=${p}&monitor=true&api-version=${apiVersionOf(ctx)}`,
    };
  }

  function operationResult(ctx: Ctx, id: string): void {
    const op = asyncOps.get(id);
    if (!op) throw new ArmError(404, 'NotFound', `The operation '${id}' could not be found.`);
    if (op.status === 'InProgress' || op.status === 'Running') {
      armSend(ctx, 202, undefined, { Location: `${url}${ctx.url.pathname}${ctx.url.search}` });
    } else if (op.status === 'Failed') {
      armSend(ctx, 400, { error: op.error });
    } else {
      armSend(ctx, 200, op.result);
    }
  }

  function computeOperation(ctx: Ctx, id: string): void {
    const op = asyncOps.get(id);
    if (!op) throw new ArmError(404, 'NotFound', `The operation '${id}' could not be found.`);
    const running = op.status === 'InProgress';
    if (ctx.url.searchParams.get('monitor') === 'true') {
      if (running) armSend(ctx, 202, undefined, { Location: `${url}${ctx.url.pathname}${ctx.url.search}` });
      else if (op.status === 'Failed') armSend(ctx, 400, { error: op.error });
      else armSend(ctx, 200);
      return;
    }
    armSend(
      ctx,
      200,
      stripUndefined({
        startTime: op.startTime,
        endTime: op.endTime,
        status: op.status,
        name: op.id,
        error: op.error,
      }),
    );
  }

  // ------------------------------------------------------------ ARM: resource groups and resources

  function rgKeyOf(id: string): string {
    return lower(id.split('/')[4] ?? '');
  }

  function requireGroup(name: string): Json {
    const rg = state.resourceGroups.get(lower(name));
    if (!rg) throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`);
    return rg;
  }

  function resourcesIn(rgName: string): Json[] {
    return [...state.resources.values()].filter((r) => rgKeyOf(r.id) === lower(rgName));
  }

  function removeResource(id: string): void {
    const key = lower(id);
    const r = state.resources.get(key);
    state.resources.delete(key);
    desired.delete(key);
    if (r && lower(r.type) === VMSS_TYPE) {
      const setKey = `${rgKeyOf(r.id)}/${lower(r.name)}`;
      state.scaleSets.delete(setKey);
      powers.delete(setKey);
    }
  }

  function resize(setKey: string, capacity: number): void {
    const list = powers.get(setKey) ?? [];
    while (list.length < capacity) list.push('running');
    list.length = Math.max(0, capacity);
    powers.set(setKey, list);
  }

  /** Creates or replaces a resource from its declared content (a deployment's or a PUT's). */
  function upsertResource(
    t: { id: string; type: string; name: string },
    content: Json,
    provisioningState = 'Succeeded',
  ): Json {
    const key = lower(t.id);
    const prev = state.resources.get(key);
    const json: Json = stripUndefined({
      id: t.id,
      name: lastSegment(t.name),
      type: t.type,
      location: normalizeLocation(content.location),
      kind: clone(content.kind),
      sku: clone(content.sku),
      tags: clone(content.tags),
      identity: clone(content.identity),
      zones: clone(content.zones),
      plan: clone(content.plan),
      extendedLocation: clone(content.extendedLocation),
      properties: { ...clone(content.properties ?? {}), provisioningState },
    });
    const type = lower(t.type);
    if (isObject(json.identity) && /systemassigned/i.test(String(json.identity.type))) {
      json.identity.principalId = prev?.identity?.principalId ?? stableGuid('principal', t.id);
      json.identity.tenantId = tenantId;
    }
    if (type === VMSS_TYPE) {
      json.properties.uniqueId = prev?.properties?.uniqueId ?? randomUUID();
      json.properties.timeCreated = prev?.properties?.timeCreated ?? now();
      json.properties.orchestrationMode ??= 'Uniform';
      const setKey = `${rgKeyOf(t.id)}/${lower(json.name)}`;
      state.scaleSets.set(setKey, json);
      if (provisioningState === 'Succeeded') resize(setKey, Number(json.sku?.capacity ?? 0));
    } else if (type === PUBLIC_IP_TYPE) {
      json.properties.ipAddress = prev?.properties?.ipAddress ?? `20.${randomBytes(3).join('.')}`;
      const label = json.properties.dnsSettings?.domainNameLabel;
      if (label) json.properties.dnsSettings.fqdn = `${label}.${json.location}.cloudapp.azure.com`;
    } else if (type === CONTAINER_TYPE) {
      const [account, , container] = t.name.split('/');
      containers.add(`${account}/${container}`);
    } else if (type === STORAGE_ACCOUNT_TYPE) {
      json.properties.primaryEndpoints = { blob: `${url}/blob/${json.name}/` };
      json.properties.primaryLocation = json.location;
      json.properties.statusOfPrimary = 'available';
      json.properties.creationTime = prev?.properties?.creationTime ?? now();
    }
    state.resources.set(key, json);
    desired.set(key, clone(content));
    return json;
  }

  function resourceGroups(ctx: Ctx, name: string | undefined): void {
    if (name === undefined) {
      if (ctx.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', 'The method is not allowed.');
      armSend(ctx, 200, { value: [...state.resourceGroups.values()] });
      return;
    }
    const key = lower(name);
    const rg = state.resourceGroups.get(key);
    switch (ctx.method) {
      case 'HEAD':
        armSend(ctx, rg ? 204 : 404);
        return;
      case 'GET':
        armSend(ctx, 200, requireGroup(name));
        return;
      case 'PUT':
      case 'PATCH': {
        const body = parseJson(ctx);
        if (ctx.method === 'PATCH' && !rg) requireGroup(name);
        const location = normalizeLocation(body.location) ?? rg?.location;
        if (!location)
          throw new ArmError(
            400,
            'LocationRequired',
            'The location property is required for this definition.',
          );
        if (rg && location !== rg.location) {
          throw new ArmError(
            409,
            'InvalidResourceGroupLocation',
            `Invalid resource group location '${location}'. The Resource group already exists in location '${rg.location}'.`,
          );
        }
        if (rg?.properties.provisioningState === 'Deleting') {
          throw new ArmError(
            409,
            'ResourceGroupBeingDeleted',
            `The resource group '${name}' is in deprovisioning state and cannot perform this operation.`,
          );
        }
        const json = stripUndefined({
          id: `/subscriptions/${subscriptionId}/resourceGroups/${rg?.name ?? name}`,
          name: rg?.name ?? name,
          type: 'Microsoft.Resources/resourceGroups',
          location,
          managedBy: body.managedBy ?? rg?.managedBy,
          tags: body.tags ?? rg?.tags,
          properties: { provisioningState: 'Succeeded' },
        });
        state.resourceGroups.set(key, json);
        armSend(ctx, rg || ctx.method === 'PATCH' ? 200 : 201, json);
        return;
      }
      case 'DELETE': {
        const group = requireGroup(name);
        group.properties.provisioningState = 'Deleting';
        const op = newOp();
        void sleep(emu.provisioningMs).then(() => {
          for (const r of resourcesIn(group.name)) removeResource(r.id);
          for (const k of [...state.deployments.keys()]) {
            if (k.startsWith(`${key}/`)) {
              state.deployments.delete(k);
              runs.delete(k);
            }
          }
          state.resourceGroups.delete(key);
          finishOp(op, 'Succeeded');
        });
        armSend(ctx, 202, undefined, { Location: operationResultUrl(ctx, op) });
        return;
      }
      default:
        throw new ArmError(405, 'MethodNotAllowed', `The method '${ctx.method}' is not allowed.`);
    }
  }

  function parseJson(ctx: Ctx): Json {
    if (ctx.body.length === 0) return {};
    try {
      return JSON.parse(ctx.body.toString('utf8'));
    } catch (err) {
      throw new ArmError(
        400,
        'InvalidRequestContent',
        `The request content was invalid and could not be deserialized: '${(err as Error).message}'.`,
      );
    }
  }

  function notFoundResource(type: string, name: string, rg: string): ArmError {
    return new ArmError(
      404,
      'ResourceNotFound',
      `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    );
  }

  /** Any resource not handled more closely: a document to PUT, GET, PATCH (tags) and DELETE. */
  function genericResource(ctx: Ctx, rgName: string, providerSegs: string[]): void {
    const group = requireGroup(rgName);
    // An extension resource (.../providers/Microsoft.Authorization/roleAssignments/x on a resource): typed by its last provider.
    const inner = providerSegs.map(lower).lastIndexOf('providers');
    const [ns, ...rest] = inner >= 0 ? providerSegs.slice(inner + 1) : providerSegs;
    if (!ns || rest.length < 2 || rest.length % 2 !== 0) {
      throw new ArmError(
        404,
        'NotFound',
        `No HTTP resource was found that matches the request URI '${ctx.url.pathname}'.`,
      );
    }
    const type = `${ns}/${rest.filter((_s, i) => i % 2 === 0).join('/')}`;
    const name = rest.filter((_s, i) => i % 2 === 1).join('/');
    const id =
      inner >= 0
        ? extensionResourceId(
            `/subscriptions/${subscriptionId}/resourceGroups/${group.name}/providers/${providerSegs.slice(0, inner).join('/')}`,
            type,
            name,
          )
        : armResourceId(subscriptionId, group.name, type, name);
    const existing = state.resources.get(lower(id));
    switch (ctx.method) {
      case 'GET':
      case 'HEAD':
        if (!existing) throw notFoundResource(type, name, group.name);
        armSend(ctx, 200, existing);
        return;
      case 'PUT': {
        const body = parseJson(ctx);
        const content = Object.fromEntries(
          CONTENT_KEYS.filter((k) => body[k] !== undefined).map((k) => [k, body[k]]),
        );
        armSend(
          ctx,
          existing ? 200 : 201,
          upsertResource({ id, type: existing?.type ?? type, name }, content),
        );
        return;
      }
      case 'PATCH': {
        if (!existing) throw notFoundResource(type, name, group.name);
        const body = parseJson(ctx);
        if (body.tags !== undefined) {
          existing.tags = body.tags;
          const d = desired.get(lower(id));
          if (d) d.tags = clone(body.tags);
        }
        armSend(ctx, 200, existing);
        return;
      }
      case 'DELETE':
        if (!existing) {
          armSend(ctx, 204);
          return;
        }
        removeResource(id);
        armSend(ctx, 200);
        return;
      default:
        throw new ArmError(405, 'MethodNotAllowed', `The method '${ctx.method}' is not allowed.`);
    }
  }

  // ------------------------------------------------------------ ARM: virtual machine scale sets

  function vmComputerName(set: Json, i: number): string {
    const prefix = set.properties?.virtualMachineProfile?.osProfile?.computerNamePrefix ?? set.name;
    return `${prefix}${i.toString(36).padStart(6, '0')}`;
  }

  function vmInstanceView(set: Json, i: number, power: PowerState): Json {
    const transitional = ['deallocating', 'starting', 'stopping'].includes(power);
    return {
      platformUpdateDomain: i % 5,
      platformFaultDomain: i % 2,
      computerName: vmComputerName(set, i),
      osName: 'ubuntu',
      osVersion: '22.04',
      statuses: [
        transitional
          ? { code: 'ProvisioningState/updating', level: 'Info', displayStatus: 'Updating' }
          : {
              code: 'ProvisioningState/succeeded',
              level: 'Info',
              displayStatus: 'Provisioning succeeded',
              time: set.properties.timeCreated,
            },
        { code: `PowerState/${power}`, level: 'Info', displayStatus: POWER_DISPLAY[power] },
      ],
    };
  }

  function vmJson(set: Json, setKey: string, i: number, expand: boolean): Json {
    const power = powers.get(setKey)?.[i] ?? 'running';
    const transitional = ['deallocating', 'starting', 'stopping'].includes(power);
    return {
      name: `${set.name}_${i}`,
      id: `${set.id}/virtualMachines/${i}`,
      type: 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines',
      location: set.location,
      instanceId: String(i),
      sku: stripUndefined({ name: set.sku?.name, tier: set.sku?.tier }),
      properties: {
        latestModelApplied: true,
        vmId: stableGuid(set.id, String(i)),
        hardwareProfile: set.sku?.name ? { vmSize: set.sku.name } : undefined,
        osProfile: { computerName: vmComputerName(set, i) },
        provisioningState: transitional ? 'Updating' : 'Succeeded',
        ...(expand ? { instanceView: vmInstanceView(set, i, power) } : {}),
      },
    };
  }

  function scaleSets(ctx: Ctx, rgName: string, rest: string[]): void {
    const group = requireGroup(rgName);
    const name = rest[0]!;
    const setKey = `${lower(group.name)}/${lower(name)}`;
    const set = state.scaleSets.get(setKey);
    const type = 'Microsoft.Compute/virtualMachineScaleSets';
    const need = (): Json => {
      if (!set) throw notFoundResource(type, name, group.name);
      return set;
    };
    const sub = rest[1] === undefined ? undefined : lower(rest[1]);
    if (sub === undefined) {
      switch (ctx.method) {
        case 'GET':
          armSend(ctx, 200, need());
          return;
        case 'PUT':
        case 'PATCH': {
          const body = parseJson(ctx);
          let content: Json;
          if (ctx.method === 'PUT') {
            content = Object.fromEntries(
              CONTENT_KEYS.filter((k) => body[k] !== undefined).map((k) => [k, body[k]]),
            );
          } else {
            const current = clone(desired.get(lower(need().id)) ?? {});
            content = current;
            if (body.sku) content.sku = { ...current.sku, ...body.sku };
            if (body.tags) content.tags = body.tags;
            if (body.identity) content.identity = body.identity;
            if (body.zones) content.zones = body.zones;
            if (body.properties) content.properties = mergeDeep(current.properties ?? {}, body.properties);
          }
          const created = !set;
          const json = upsertResource(
            { id: armResourceId(subscriptionId, group.name, type, name), type, name },
            content,
            created ? 'Creating' : 'Updating',
          );
          const op = newOp();
          void sleep(emu.provisioningMs).then(() => {
            json.properties.provisioningState = 'Succeeded';
            resize(setKey, Number(json.sku?.capacity ?? 0));
            finishOp(op, 'Succeeded');
          });
          const urls = computeOpUrls(ctx, json.location ?? 'westeurope', op);
          armSend(ctx, created ? 201 : 200, json, { 'Azure-AsyncOperation': urls.asyncOperation });
          return;
        }
        case 'DELETE': {
          if (!set) {
            armSend(ctx, 204);
            return;
          }
          set.properties.provisioningState = 'Deleting';
          const op = newOp();
          void sleep(emu.provisioningMs).then(() => {
            removeResource(set.id);
            finishOp(op, 'Succeeded');
          });
          const urls = computeOpUrls(ctx, set.location, op);
          armSend(ctx, 202, undefined, {
            'Azure-AsyncOperation': urls.asyncOperation,
            Location: urls.location,
          });
          return;
        }
        default:
          throw new ArmError(405, 'MethodNotAllowed', `The method '${ctx.method}' is not allowed.`);
      }
    }
    const POWER_ACTIONS: Record<string, [PowerState, PowerState]> = {
      deallocate: ['deallocating', 'deallocated'],
      start: ['starting', 'running'],
      poweroff: ['stopping', 'stopped'],
      restart: ['starting', 'running'],
    };
    const action = POWER_ACTIONS[sub];
    if (action && ctx.method === 'POST' && rest.length === 2) {
      const s = need();
      const body = parseJson(ctx);
      const list = powers.get(setKey) ?? [];
      const ids: number[] = Array.isArray(body.instanceIds)
        ? body.instanceIds.map(Number).filter((i: number) => i >= 0 && i < list.length)
        : list.map((_p, i) => i);
      for (const i of ids) list[i] = action[0];
      const op = newOp();
      void sleep(emu.provisioningMs).then(() => {
        for (const i of ids) if (list[i] === action[0]) list[i] = action[1];
        finishOp(op, 'Succeeded');
      });
      const urls = computeOpUrls(ctx, s.location, op);
      armSend(ctx, 202, undefined, { 'Azure-AsyncOperation': urls.asyncOperation, Location: urls.location });
      return;
    }
    if (ctx.method !== 'GET')
      throw new ArmError(405, 'MethodNotAllowed', `The method '${ctx.method}' is not allowed.`);
    if (sub === 'instanceview' && rest.length === 2) {
      const s = need();
      const count = powers.get(setKey)?.length ?? 0;
      const updating = (powers.get(setKey) ?? []).filter((p) =>
        ['deallocating', 'starting', 'stopping'].includes(p),
      ).length;
      const summary = [
        { code: 'ProvisioningState/succeeded', count: count - updating },
        { code: 'ProvisioningState/updating', count: updating },
      ].filter((x) => x.count > 0);
      armSend(ctx, 200, {
        virtualMachine: { statusesSummary: summary },
        statuses: [
          s.properties.provisioningState === 'Succeeded'
            ? {
                code: 'ProvisioningState/succeeded',
                level: 'Info',
                displayStatus: 'Provisioning succeeded',
                time: s.properties.timeCreated,
              }
            : {
                code: `ProvisioningState/${lower(s.properties.provisioningState)}`,
                level: 'Info',
                displayStatus: s.properties.provisioningState,
              },
        ],
      });
      return;
    }
    if (sub === 'virtualmachines') {
      const s = need();
      const list = powers.get(setKey) ?? [];
      const expand = lower(ctx.url.searchParams.get('$expand') ?? '') === 'instanceview';
      if (rest.length === 2) {
        armSend(ctx, 200, { value: list.map((_p, i) => vmJson(s, setKey, i, expand)) });
        return;
      }
      const i = Number(rest[2]);
      if (!Number.isInteger(i) || i < 0 || i >= list.length) {
        throw notFoundResource(`${type}/virtualMachines`, `${name}/${rest[2]}`, group.name);
      }
      if (rest.length === 3) {
        armSend(ctx, 200, vmJson(s, setKey, i, expand));
        return;
      }
      if (rest.length === 4 && lower(rest[3]!) === 'instanceview') {
        armSend(ctx, 200, vmInstanceView(s, i, list[i]!));
        return;
      }
    }
    throw new ArmError(
      404,
      'NotFound',
      `No HTTP resource was found that matches the request URI '${ctx.url.pathname}'.`,
    );
  }

  // ------------------------------------------------------------ ARM: deployments

  /** A template resource's `scope`: a resource id, or `namespace/type/name[/type/name]` in the resource group. */
  function scopeId(scope: string, rgName: string): string {
    if (scope.startsWith('/')) return scope;
    const [ns, ...rest] = scope.split('/');
    const types = rest.filter((_s, i) => i % 2 === 0);
    const names = rest.filter((_s, i) => i % 2 === 1);
    return armResourceId(subscriptionId, rgName, `${ns}/${types.join('/')}`, names);
  }

  /** Validates a deployment request and compiles its template; ArmError 400 InvalidTemplate when it is not valid. */
  function compile(body: Json, group: Json, deploymentName: string): Compiled {
    const props = body?.properties;
    if (!isObject(props)) {
      throw new ArmError(
        400,
        'InvalidRequestContent',
        "The request content was invalid and could not be deserialized: 'Required property 'properties' not found in JSON.'.",
      );
    }
    if (props.templateLink !== undefined && props.template === undefined) {
      throw new ArmError(
        400,
        'InvalidTemplate',
        'The Azure emulator takes inline templates only, not templateLink.',
      );
    }
    const template = props.template;
    const mode = lower(String(props.mode ?? 'Incremental')) === 'complete' ? 'Complete' : 'Incremental';
    const invalid = (message: string) =>
      new ArmError(400, 'InvalidTemplate', `Deployment template validation failed: '${message}'.`);
    if (!isObject(template))
      throw invalid("The template is not a JSON object: 'Required property 'template' not found in JSON.'");
    if (!Array.isArray(template.resources) && !isObject(template.resources)) {
      throw invalid("Required property 'resources' not found in JSON. Path 'properties.template'");
    }
    const declared: Record<string, Json> = isObject(template.parameters) ? template.parameters : {};
    const given: Record<string, Json> = isObject(props.parameters) ? props.parameters : {};
    const base = {
      subscriptionId,
      tenantId,
      url,
      resourceGroup: group,
      deploymentName,
      parameters: new Map<string, Json>(),
      variables: new Map<string, Json>(
        Object.entries(isObject(template.variables) ? template.variables : {}).map(([k, v]) => [lower(k), v]),
      ),
    };
    const ctxOf = (reference: (id: string, full: boolean) => Json): EvalCtx => ({
      ...base,
      variableCache: new Map(),
      evaluating: new Set(),
      reference,
    });
    const deferAll = ctxOf(() => {
      throw new Deferred('reference');
    });
    const shown: Record<string, Json> = {};
    try {
      for (const k of Object.keys(given)) {
        if (!Object.keys(declared).some((d) => lower(d) === lower(k))) {
          throw new TemplateError(
            `The template parameters '${k}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '${Object.keys(declared).join(', ')}'. Please see https://aka.ms/arm-pass-parameter-values for usage details.`,
          );
        }
      }
      for (const [name, decl] of Object.entries(declared)) {
        const type = String(decl?.type ?? 'string');
        const gk = Object.keys(given).find((k) => lower(k) === lower(name));
        let value: Json;
        if (gk !== undefined) {
          if (isObject(given[gk]) && 'reference' in given[gk]) {
            throw new TemplateError(
              `The parameter '${name}' is a Key Vault reference, which the Azure emulator does not resolve.`,
            );
          }
          value = given[gk]?.value;
        } else if (isObject(decl) && 'defaultValue' in decl) {
          value = evaluate(decl.defaultValue, deferAll, false);
        } else {
          throw new TemplateError(
            `The value for the template parameter '${name}' at line '1' and column '1' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details.`,
          );
        }
        checkParameterType(name, type, value);
        if (Array.isArray(decl.allowedValues) && !decl.allowedValues.some((a: Json) => deepEqual(a, value))) {
          throw new TemplateError(
            `The provided value '${asText(value)}' for the template parameter '${name}' at line '1' and column '1' is not valid. The parameter value is not part of the allowed value(s): '${decl.allowedValues.map(asText).join(',')}'.`,
          );
        }
        base.parameters.set(lower(name), value);
        const shownType = PARAMETER_TYPES[lower(type)] ?? type;
        shown[name] = lower(type).startsWith('secure') ? { type: shownType } : { type: shownType, value };
      }

      // Flatten child resources, evaluate names, types, conditions.
      const entries: [string, Json, Json | undefined][] = Array.isArray(template.resources)
        ? template.resources.map((r: Json, i: number) => [String(i), r, undefined])
        : Object.entries(template.resources).map(([k, r]) => [k, r, undefined]);
      const all: (TemplateResource & { condition: boolean })[] = [];
      while (entries.length > 0) {
        const [symbol, raw, parent] = entries.shift()!;
        if (!isObject(raw))
          throw new TemplateError(`The template resource '${symbol}' is not a JSON object.`);
        if (raw.copy !== undefined)
          throw new TemplateError(`The Azure emulator does not support copy loops (resource '${symbol}').`);
        if (raw.existing === true) continue;
        for (const prop of ['type', 'name', 'apiVersion']) {
          if (raw[prop] === undefined) {
            throw new TemplateError(
              `The template resource '${symbol}' at line '1' and column '1' is not valid: Required property '${prop}' not found in JSON.`,
            );
          }
        }
        let type = asText(evaluate(raw.type, deferAll, false));
        let name = asText(evaluate(raw.name, deferAll, false));
        const dependsOn: string[] = Array.isArray(raw.dependsOn) ? [...raw.dependsOn] : [];
        if (parent) {
          if (!type.split('/')[0]!.includes('.')) type = `${parent.type}/${type}`;
          if (name.split('/').length < type.split('/').length - 1) name = `${parent.name}/${name}`;
          dependsOn.push(parent.id);
        }
        const condition =
          raw.condition === undefined ? true : Boolean(evaluate(raw.condition, deferAll, false));
        const scope = raw.scope === undefined ? undefined : asText(evaluate(raw.scope, deferAll, false));
        const id =
          scope === undefined
            ? armResourceId(subscriptionId, group.name, type, name)
            : extensionResourceId(scopeId(scope, group.name), type, name);
        const r = { symbol, id, type, name, apiVersion: asText(raw.apiVersion), raw, dependsOn, condition };
        if (all.some((x) => lower(x.id) === lower(id) && x.condition && condition)) {
          throw new TemplateError(`The resource '${id}' is defined multiple times in a template.`);
        }
        all.push(r);
        if (Array.isArray(raw.resources)) {
          raw.resources.forEach((child: Json, i: number) => {
            entries.push([`${symbol}/${i}`, child, r]);
          });
        }
      }

      // Resolve dependsOn: a symbolic name, a resource id, a type/name, or a name alone.
      for (const r of all) {
        r.dependsOn = r.dependsOn.map((d) => {
          const ref = asText(evaluate(d, deferAll, false));
          const lref = lower(ref);
          const match =
            all.find((x) => x.symbol === ref && !Array.isArray(template.resources)) ??
            all.find((x) => lower(x.id) === lref) ??
            all.find((x) => lref.includes('/') && lower(x.id).endsWith(`/${lref}`)) ??
            all.find((x) => {
              const [ns, ...types] = x.type.split('/');
              const names = x.name.split('/');
              return lref === lower(`${ns}/${types.map((t, i) => `${t}/${names[i]}`).join('/')}`);
            }) ??
            all.find((x) => lower(x.name) === lref);
          if (!match) throw new TemplateError(`The resource '${ref}' is not defined in the template.`);
          return match.id;
        });
      }
      const active = all.filter((r) => r.condition);
      const activeIds = new Set(active.map((r) => lower(r.id)));
      for (const r of active) r.dependsOn = r.dependsOn.filter((d) => activeIds.has(lower(d)));

      // Deployment order: dependencies first, template order among the ready ones.
      const ordered: TemplateResource[] = [];
      const done = new Set<string>();
      while (ordered.length < active.length) {
        const next = active.find(
          (r) => !done.has(lower(r.id)) && r.dependsOn.every((d) => done.has(lower(d))),
        );
        if (!next) {
          const stuck = active.find((r) => !done.has(lower(r.id)))!;
          throw new TemplateError(`Circular dependency detected on resource: '${stuck.id}'.`);
        }
        ordered.push(next);
        done.add(lower(next.id));
      }
      // Everything else must evaluate (reference() to a resource of this deployment waits until it is deployed).
      for (const r of ordered) contentOf(r, deferAll, true);
      const hash = createHash('sha256').update(canonical(template)).digest();
      return {
        mode,
        template,
        parameters: shown,
        resources: ordered,
        ctx: ctxOf,
        templateHash: hash.readBigUInt64BE(0).toString(),
      };
    } catch (err) {
      if (err instanceof TemplateError) throw invalid(err.message);
      throw err;
    }
  }

  function deploymentId(group: Json, name: string): string {
    return `/subscriptions/${subscriptionId}/resourceGroups/${group.name}/providers/Microsoft.Resources/deployments/${name}`;
  }

  function liveReference(compiled: Compiled) {
    return (target: string, full: boolean): Json => {
      const id = target.startsWith('/')
        ? target
        : compiled.resources.find((r) => lower(r.name) === lower(target))?.id;
      const r = id ? state.resources.get(lower(id)) : undefined;
      if (!r) throw new TemplateError(`The Resource '${target}' was not found.`);
      return full ? r : r.properties;
    };
  }

  function matchFailure(r: TemplateResource): ResourceFailure | undefined {
    const f = failures.find(
      (x) =>
        x.remaining > 0 &&
        (x.type === undefined || lower(x.type) === lower(r.type)) &&
        (x.name === undefined ||
          lower(x.name) === lower(r.name) ||
          lower(x.name) === lower(lastSegment(r.name))),
    );
    if (f) f.remaining--;
    return f;
  }

  async function runDeployment(run: DeploymentRun, group: Json): Promise<void> {
    const dep = run.json;
    const started = Date.now();
    const third = Math.max(0, Math.round(emu.provisioningMs / 3));
    await sleep(0);
    dep.properties.provisioningState = 'Running';
    const broken = new Set<string>();
    const errors: Json[] = [];
    const outputResources: Json[] = [];
    for (const r of run.compiled.resources) {
      if (run.canceled) return;
      if (r.dependsOn.some((d) => broken.has(lower(d)))) {
        broken.add(lower(r.id));
        continue;
      }
      const opId = randomBytes(8).toString('hex').toUpperCase();
      const opStart = Date.now();
      const op: Json = {
        id: `${dep.id}/operations/${opId}`,
        operationId: opId,
        properties: {
          provisioningOperation: 'Create',
          provisioningState: 'Accepted',
          timestamp: now(),
          duration: 'PT0S',
          trackingId: randomUUID(),
          serviceRequestId: randomUUID(),
          targetResource: { id: r.id, resourceType: r.type, resourceName: r.name, apiVersion: r.apiVersion },
        },
      };
      run.ops.push(op);
      await sleep(third);
      if (run.canceled) return;
      op.properties.provisioningState = 'Running';
      op.properties.timestamp = now();
      await sleep(Math.max(0, emu.provisioningMs - third));
      if (run.canceled) return;
      let failure: ResourceFailure | undefined = matchFailure(r);
      let content: Json;
      if (!failure) {
        try {
          content = contentOf(r, run.compiled.ctx(liveReference(run.compiled)), false);
        } catch (err) {
          failure = { code: 'InvalidTemplate', message: (err as Error).message };
        }
      }
      op.properties.timestamp = now();
      op.properties.duration = isoDuration(Date.now() - opStart);
      if (failure) {
        const error = { code: failure.code, message: failure.message };
        op.properties.provisioningState = 'Failed';
        op.properties.statusCode = failure.code === 'InvalidTemplate' ? 'BadRequest' : 'Conflict';
        op.properties.statusMessage = { status: 'Failed', error };
        errors.push(error);
        broken.add(lower(r.id));
        continue;
      }
      const existed = state.resources.has(lower(r.id));
      const json = upsertResource(r, content);
      op.properties.provisioningState = 'Succeeded';
      op.properties.statusCode = existed ? 'OK' : 'Created';
      op.properties.statusMessage = clone(json);
      outputResources.push({ id: r.id });
    }
    const finish = (status: 'Succeeded' | 'Failed', error?: Json) => {
      dep.properties.provisioningState = status;
      dep.properties.timestamp = now();
      dep.properties.duration = isoDuration(Date.now() - started);
      dep.properties.outputResources = outputResources;
      if (error) dep.properties.error = error;
      run.active = false;
      finishOp(run.op, status, error);
    };
    if (errors.length > 0) {
      finish('Failed', {
        code: 'DeploymentFailed',
        target: dep.id,
        message:
          'At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.',
        details: errors,
      });
      return;
    }
    if (run.compiled.mode === 'Complete') {
      const keep = new Set(run.compiled.resources.map((r) => lower(r.id)));
      for (const r of resourcesIn(group.name)) if (!keep.has(lower(r.id))) removeResource(r.id);
    }
    const outputs = run.compiled.template.outputs;
    if (isObject(outputs)) {
      try {
        const ctx = run.compiled.ctx(liveReference(run.compiled));
        dep.properties.outputs = Object.fromEntries(
          Object.entries(outputs).map(([k, o]) => [
            k,
            {
              type: PARAMETER_TYPES[lower(String(o?.type ?? 'string'))] ?? o?.type,
              value: evaluate(o?.value, ctx, false),
            },
          ]),
        );
      } catch (err) {
        finish('Failed', {
          code: 'DeploymentOutputEvaluationFailed',
          message: `Unable to evaluate template outputs. Please see error details and deployment operations. Please see https://aka.ms/arm-common-errors for usage details.`,
          details: [{ code: 'DeploymentOutputEvaluationFailed', message: (err as Error).message }],
        });
        return;
      }
    }
    finish('Succeeded');
  }

  function whatIf(compiled: Compiled, group: Json): Json {
    const ctx = compiled.ctx((target, full) => {
      const id = target.startsWith('/')
        ? target
        : compiled.resources.find((r) => lower(r.name) === lower(target))?.id;
      const r = id ? state.resources.get(lower(id)) : undefined;
      if (!r) throw new Deferred('reference');
      return full ? r : r.properties;
    });
    const changes: Json[] = [];
    const inTemplate = new Set<string>();
    for (const r of compiled.resources) {
      inTemplate.add(lower(r.id));
      const after = {
        id: r.id,
        name: lastSegment(r.name),
        type: r.type,
        apiVersion: r.apiVersion,
        ...contentOf(r, ctx, true),
      };
      const current = desired.get(lower(r.id));
      if (current === undefined) {
        changes.push({ resourceId: r.id, changeType: 'Create', after });
        continue;
      }
      const live = state.resources.get(lower(r.id));
      const before = {
        id: live.id,
        name: live.name,
        type: live.type,
        apiVersion: r.apiVersion,
        ...clone(current),
      };
      const delta = diff(before, after);
      changes.push(
        delta.length === 0
          ? { resourceId: r.id, changeType: 'NoChange', before, after }
          : { resourceId: r.id, changeType: 'Modify', before, after, delta },
      );
    }
    for (const r of resourcesIn(group.name)) {
      if (inTemplate.has(lower(r.id))) continue;
      changes.push({
        resourceId: r.id,
        changeType: compiled.mode === 'Complete' ? 'Delete' : 'Ignore',
        before: clone(r),
      });
    }
    return { status: 'Succeeded', properties: { changes } };
  }

  function deployments(ctx: Ctx, rgName: string, rest: string[]): void {
    const group = requireGroup(rgName);
    if (rest.length === 0) {
      if (ctx.method !== 'GET')
        throw new ArmError(405, 'MethodNotAllowed', `The method '${ctx.method}' is not allowed.`);
      const prefix = `${lower(group.name)}/`;
      armSend(ctx, 200, {
        value: [...state.deployments.entries()].filter(([k]) => k.startsWith(prefix)).map(([, d]) => d),
      });
      return;
    }
    const name = rest[0]!;
    const key = `${lower(group.name)}/${lower(name)}`;
    const dep = state.deployments.get(key);
    const run = runs.get(key);
    const need = (): Json => {
      if (!dep) throw new ArmError(404, 'DeploymentNotFound', `Deployment '${name}' could not be found.`);
      return dep;
    };
    const sub = rest[1] === undefined ? undefined : lower(rest[1]);
    if (sub === undefined) {
      switch (ctx.method) {
        case 'HEAD':
          armSend(ctx, dep ? 204 : 404);
          return;
        case 'GET':
          armSend(ctx, 200, need());
          return;
        case 'PUT': {
          if (run?.active) {
            throw new ArmError(
              409,
              'DeploymentActive',
              `Unable to edit or replace deployment '${name}': previous deployment from '${run.json.properties.timestamp}' is still active (expiration time is '${new Date(Date.now() + 14 * 86_400_000).toISOString()}'). Please see https://aka.ms/arm-deploy for usage details.`,
            );
          }
          if (group.properties.provisioningState === 'Deleting') {
            throw new ArmError(
              409,
              'ResourceGroupBeingDeleted',
              `The resource group '${group.name}' is in deprovisioning state and cannot perform this operation.`,
            );
          }
          const body = parseJson(ctx);
          const compiled = compile(body, group, name);
          const id = deploymentId(group, name);
          const json: Json = stripUndefined({
            id,
            name,
            type: 'Microsoft.Resources/deployments',
            tags: body.tags,
            properties: {
              templateHash: compiled.templateHash,
              parameters: compiled.parameters,
              mode: compiled.mode,
              provisioningState: 'Accepted',
              timestamp: now(),
              duration: 'PT0S',
              correlationId: randomUUID(),
              providers: providersOf(compiled),
              dependencies: compiled.resources
                .filter((r) => r.dependsOn.length > 0)
                .map((r) => ({
                  dependsOn: r.dependsOn.map((d) => {
                    const t = compiled.resources.find((x) => lower(x.id) === lower(d))!;
                    return { id: t.id, resourceType: t.type, resourceName: t.name };
                  }),
                  id: r.id,
                  resourceType: r.type,
                  resourceName: r.name,
                })),
            },
          });
          const op = newOp();
          op.status = 'Running';
          const newRun: DeploymentRun = { json, compiled, ops: [], op, active: true, canceled: false };
          state.deployments.set(key, json);
          runs.set(key, newRun);
          void runDeployment(newRun, group).catch((err: Error) => {
            json.properties.provisioningState = 'Failed';
            newRun.active = false;
            finishOp(op, 'Failed', { code: 'InternalServerError', message: err.message });
          });
          armSend(ctx, 201, json, {
            'Azure-AsyncOperation': `${url}${id}/operationStatuses/${op.id}?api-version=${apiVersionOf(ctx)}`,
          });
          return;
        }
        case 'DELETE': {
          need();
          if (run?.active) {
            throw new ArmError(
              409,
              'DeploymentActive',
              `Unable to delete deployment '${name}': it is still active.`,
            );
          }
          const op = newOp();
          void sleep(emu.provisioningMs).then(() => {
            state.deployments.delete(key);
            runs.delete(key);
            finishOp(op, 'Succeeded');
          });
          armSend(ctx, 202, undefined, { Location: operationResultUrl(ctx, op) });
          return;
        }
        default:
          throw new ArmError(405, 'MethodNotAllowed', `The method '${ctx.method}' is not allowed.`);
      }
    }
    if (sub === 'whatif' && ctx.method === 'POST' && rest.length === 2) {
      const compiled = compile(parseJson(ctx), group, name);
      const result = whatIf(compiled, group);
      const op = newOp();
      void sleep(emu.provisioningMs).then(() => finishOp(op, 'Succeeded', undefined, result));
      armSend(ctx, 202, undefined, { Location: operationResultUrl(ctx, op) });
      return;
    }
    if (sub === 'validate' && ctx.method === 'POST' && rest.length === 2) {
      const compiled = compile(parseJson(ctx), group, name);
      armSend(ctx, 200, {
        id: deploymentId(group, name),
        name,
        type: 'Microsoft.Resources/deployments',
        properties: {
          templateHash: compiled.templateHash,
          parameters: compiled.parameters,
          mode: compiled.mode,
          provisioningState: 'Succeeded',
          timestamp: now(),
          duration: 'PT0S',
          correlationId: randomUUID(),
          providers: providersOf(compiled),
          validatedResources: compiled.resources.map((r) => ({ id: r.id })),
        },
      });
      return;
    }
    if (sub === 'cancel' && ctx.method === 'POST' && rest.length === 2) {
      const d = need();
      if (!run?.active) {
        throw new ArmError(
          409,
          'DeploymentCannotBeCancelled',
          `The deployment '${name}' cannot be cancelled: it is in '${d.properties.provisioningState}' state.`,
        );
      }
      run.canceled = true;
      run.active = false;
      d.properties.provisioningState = 'Canceled';
      finishOp(run.op, 'Canceled');
      armSend(ctx, 204);
      return;
    }
    if (sub === 'exporttemplate' && ctx.method === 'POST' && rest.length === 2) {
      need();
      armSend(ctx, 200, { template: run?.compiled.template });
      return;
    }
    if (ctx.method !== 'GET')
      throw new ArmError(405, 'MethodNotAllowed', `The method '${ctx.method}' is not allowed.`);
    if (sub === 'operationstatuses' && rest.length === 3) {
      need();
      const op = asyncOps.get(rest[2]!);
      if (!op || op !== run?.op)
        throw new ArmError(404, 'NotFound', `The operation '${rest[2]}' could not be found.`);
      const status = op.status === 'InProgress' ? 'Running' : op.status;
      armSend(ctx, 200, stripUndefined({ status, error: op.error }));
      return;
    }
    if (sub === 'operations') {
      need();
      const ops = run?.ops ?? [];
      if (rest.length === 2) {
        armSend(ctx, 200, { value: ops });
        return;
      }
      const op = ops.find((o) => lower(o.operationId) === lower(rest[2] ?? ''));
      if (!op || rest.length !== 3) {
        throw new ArmError(
          404,
          'DeploymentOperationNotFound',
          `Deployment operation '${rest[2]}' could not be found.`,
        );
      }
      armSend(ctx, 200, op);
      return;
    }
    throw new ArmError(
      404,
      'NotFound',
      `No HTTP resource was found that matches the request URI '${ctx.url.pathname}'.`,
    );
  }

  function providersOf(compiled: Compiled): Json[] {
    const byNs = new Map<string, Set<string>>();
    const locations = new Map<string, Set<string>>();
    for (const r of compiled.resources) {
      const [ns, ...types] = r.type.split('/');
      const t = types.join('/');
      if (!byNs.has(ns!)) byNs.set(ns!, new Set());
      byNs.get(ns!)!.add(t);
      const loc = normalizeLocation(evaluateQuietly(r.raw.location, compiled));
      if (!locations.has(r.type)) locations.set(r.type, new Set());
      if (loc) locations.get(r.type)!.add(loc);
    }
    return [...byNs.entries()].map(([namespace, types]) => ({
      namespace,
      resourceTypes: [...types].map((t) => ({
        resourceType: t,
        locations: [...(locations.get(`${namespace}/${t}`) ?? [])],
      })),
    }));
  }

  function evaluateQuietly(v: Json, compiled: Compiled): Json {
    try {
      return evaluate(
        v,
        compiled.ctx(() => {
          throw new Deferred('reference');
        }),
        true,
      );
    } catch {
      return undefined;
    }
  }

  // ------------------------------------------------------------ ARM: routing

  function arm(ctx: Ctx): void {
    const caller = bearer(ctx, [...ARM_AUDIENCES, url]);
    if (Array.isArray(caller)) {
      const [status, code, message] = caller;
      const errorDescription =
        code === 'AuthenticationFailed'
          ? "The authentication failed because of missing 'Authorization' header."
          : 'The access token is invalid.';
      armFail(
        ctx,
        new ArmError(status, code, message, undefined, {
          'WWW-Authenticate': `Bearer authorization_uri="${url}/${tenantId}", error="invalid_token", error_description="${errorDescription}"`,
        }),
      );
      return;
    }
    ctx.client = caller;
    if (caller.denied) {
      const [action, scope] = actionOf(ctx);
      armFail(
        ctx,
        new ArmError(
          403,
          'AuthorizationFailed',
          `The client '${caller.clientId}' with object id '${caller.objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
        ),
      );
      return;
    }
    const s = ctx.low;
    const n = s.length;
    const notFound = () =>
      new ArmError(
        404,
        'NotFound',
        `No HTTP resource was found that matches the request URI '${ctx.url.pathname}'.`,
      );
    if (s[0] !== 'subscriptions') throw notFound();
    if (n === 1) {
      armSend(ctx, 200, { value: [subscriptionJson()] });
      return;
    }
    if (s[1] !== lower(subscriptionId)) {
      throw new ArmError(
        404,
        'SubscriptionNotFound',
        `The subscription '${ctx.segs[1]}' could not be found.`,
      );
    }
    if (n === 2) {
      armSend(ctx, 200, subscriptionJson());
      return;
    }
    if (s[2] === 'operationresults' && n === 4) {
      operationResult(ctx, ctx.segs[3]!);
      return;
    }
    if (
      s[2] === 'providers' &&
      s[3] === 'microsoft.compute' &&
      s[4] === 'locations' &&
      s[6] === 'operations' &&
      n === 8
    ) {
      computeOperation(ctx, ctx.segs[7]!);
      return;
    }
    if (s[2] !== 'resourcegroups') throw notFound();
    if (n === 3 || n === 4) {
      resourceGroups(ctx, ctx.segs[3]);
      return;
    }
    const rg = ctx.segs[3]!;
    if (s[4] === 'resources' && n === 5 && ctx.method === 'GET') {
      requireGroup(rg);
      armSend(ctx, 200, {
        value: resourcesIn(rg).map((r) =>
          stripUndefined({
            id: r.id,
            name: r.name,
            type: r.type,
            location: r.location,
            sku: r.sku,
            kind: r.kind,
            tags: r.tags,
          }),
        ),
      });
      return;
    }
    if (s[4] === 'deployments' && n >= 6) {
      deployments(ctx, rg, ctx.segs.slice(5));
      return;
    }
    if (s[4] !== 'providers' || n < 6) throw notFound();
    if (s[5] === 'microsoft.resources' && s[6] === 'deployments') {
      deployments(ctx, rg, ctx.segs.slice(7));
      return;
    }
    if (s[5] === 'microsoft.compute' && s[6] === 'virtualmachinescalesets' && n >= 8) {
      scaleSets(ctx, rg, ctx.segs.slice(7));
      return;
    }
    genericResource(ctx, rg, ctx.segs.slice(5));
  }

  function subscriptionJson(): Json {
    return {
      id: `/subscriptions/${subscriptionId}`,
      subscriptionId,
      tenantId,
      displayName: 'cmg emulator',
      state: 'Enabled',
      subscriptionPolicies: {
        locationPlacementId: 'Public_2014-09-01',
        quotaId: 'PayAsYouGo_2014-09-01',
        spendingLimit: 'Off',
      },
      authorizationSource: 'RoleBased',
    };
  }

  // ------------------------------------------------------------ Blob service

  function storageHeaders(ctx: Ctx): Record<string, string> {
    return {
      Server: 'Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0',
      'x-ms-request-id': randomUUID(),
      'x-ms-version': ctx.req.headers['x-ms-version']?.toString() ?? '2025-11-05',
      ...(ctx.req.headers['x-ms-client-request-id']
        ? { 'x-ms-client-request-id': ctx.req.headers['x-ms-client-request-id'].toString() }
        : {}),
    };
  }

  function newEtag(): string {
    return `"0x8DC${randomBytes(6).toString('hex').toUpperCase()}"`;
  }

  function storeBlob(
    key: string,
    data: Buffer,
    ctx: Ctx,
    committed: { id: string; data: Buffer }[],
  ): BlobMeta {
    const prev = blobMeta.get(key);
    const meta: BlobMeta = {
      etag: newEtag(),
      lastModified: new Date().toUTCString(),
      created: prev?.created ?? new Date().toUTCString(),
      contentType: ctx.req.headers['x-ms-blob-content-type']?.toString() ?? 'application/octet-stream',
      contentMd5:
        ctx.req.headers['x-ms-blob-content-md5']?.toString() ??
        createHash('md5').update(data).digest('base64'),
      committed,
    };
    state.blobs.set(key, data);
    blobMeta.set(key, meta);
    uncommitted.delete(key);
    return meta;
  }

  function blob(ctx: Ctx): void {
    const caller = bearer(ctx, [...STORAGE_AUDIENCES, url]);
    if (Array.isArray(caller)) {
      const [, code, message] = caller;
      const storageCode =
        code === 'AuthenticationFailed' ? 'NoAuthenticationInformation' : 'InvalidAuthenticationInfo';
      storageFail(ctx, 401, storageCode, `Server failed to authenticate the request. ${message}`, {
        'WWW-Authenticate': `Bearer authorization_uri=${url}/${tenantId}/oauth2/authorize resource_id=https://storage.azure.com`,
      });
      return;
    }
    if (caller.denied) {
      storageFail(
        ctx,
        403,
        'AuthorizationPermissionMismatch',
        'This request is not authorized to perform this operation using this permission.',
      );
      return;
    }
    const [, account, container, ...names] = ctx.segs;
    const q = ctx.url.searchParams;
    const comp = q.get('comp');
    if (!account || !container) {
      storageFail(ctx, 400, 'InvalidUri', 'The requested URI does not represent any resource on the server.');
      return;
    }
    const containerKey = `${account}/${container}`;
    if (names.length === 0) {
      if (q.get('restype') !== 'container') {
        storageFail(
          ctx,
          400,
          'InvalidQueryParameterValue',
          'Value for one of the query parameters specified in the request URI is invalid.',
        );
        return;
      }
      const exists =
        containers.has(containerKey) || [...state.blobs.keys()].some((k) => k.startsWith(`${containerKey}/`));
      if (ctx.method === 'PUT') {
        if (containers.has(containerKey)) {
          storageFail(ctx, 409, 'ContainerAlreadyExists', 'The specified container already exists.');
          return;
        }
        containers.add(containerKey);
        send(ctx, 201, undefined, {
          ...storageHeaders(ctx),
          ETag: newEtag(),
          'Last-Modified': new Date().toUTCString(),
        });
      } else if (ctx.method === 'GET' || ctx.method === 'HEAD') {
        if (!exists) storageFail(ctx, 404, 'ContainerNotFound', 'The specified container does not exist.');
        else
          send(ctx, 200, undefined, {
            ...storageHeaders(ctx),
            ETag: newEtag(),
            'Last-Modified': new Date().toUTCString(),
          });
      } else if (ctx.method === 'DELETE') {
        if (!exists) {
          storageFail(ctx, 404, 'ContainerNotFound', 'The specified container does not exist.');
          return;
        }
        containers.delete(containerKey);
        for (const k of [...state.blobs.keys()]) if (k.startsWith(`${containerKey}/`)) state.blobs.delete(k);
        send(ctx, 202, undefined, storageHeaders(ctx));
      } else {
        storageFail(ctx, 405, 'UnsupportedHttpVerb', "The resource doesn't support specified Http Verb.");
      }
      return;
    }
    const key = `${containerKey}/${names.join('/')}`;
    const requestMd5 = ctx.req.headers['content-md5']?.toString();
    if (
      ctx.method === 'PUT' &&
      requestMd5 &&
      requestMd5 !== createHash('md5').update(ctx.body).digest('base64')
    ) {
      storageFail(
        ctx,
        400,
        'Md5Mismatch',
        'The MD5 value specified in the request did not match with the MD5 value calculated by the server.',
      );
      return;
    }
    const md5 = createHash('md5').update(ctx.body).digest('base64');
    if (ctx.method === 'PUT' && comp === null) {
      const type = ctx.req.headers['x-ms-blob-type']?.toString();
      if (!type) {
        storageFail(
          ctx,
          400,
          'MissingRequiredHeader',
          "An HTTP header that's mandatory for this request is not specified.",
        );
        return;
      }
      if (type !== 'BlockBlob') {
        storageFail(
          ctx,
          400,
          'InvalidHeaderValue',
          'The value for one of the HTTP headers is not in the correct format.',
        );
        return;
      }
      const meta = storeBlob(key, Buffer.from(ctx.body), ctx, [{ id: '', data: Buffer.from(ctx.body) }]);
      send(ctx, 201, undefined, {
        ...storageHeaders(ctx),
        ETag: meta.etag,
        'Last-Modified': meta.lastModified,
        'Content-MD5': md5,
        'x-ms-request-server-encrypted': 'true',
      });
      return;
    }
    if (ctx.method === 'PUT' && comp === 'block') {
      const blockId = q.get('blockid');
      if (!blockId || !/^[A-Za-z0-9+/]+={0,2}$/.test(blockId) || Buffer.from(blockId, 'base64').length > 64) {
        storageFail(
          ctx,
          400,
          'InvalidQueryParameterValue',
          'Value for one of the query parameters specified in the request URI is invalid.',
        );
        return;
      }
      let blocks = uncommitted.get(key);
      if (!blocks) {
        blocks = new Map();
        uncommitted.set(key, blocks);
      }
      blocks.set(blockId, Buffer.from(ctx.body));
      send(ctx, 201, undefined, {
        ...storageHeaders(ctx),
        'Content-MD5': md5,
        'x-ms-request-server-encrypted': 'true',
      });
      return;
    }
    if (ctx.method === 'PUT' && comp === 'blocklist') {
      const xml = ctx.body.toString('utf8');
      const pending = uncommitted.get(key) ?? new Map<string, Buffer>();
      const committed = blobMeta.get(key)?.committed ?? [];
      const parts: { id: string; data: Buffer }[] = [];
      for (const m of xml.matchAll(/<(Latest|Committed|Uncommitted)>([^<]*)<\/\1>/g)) {
        const [, kind, id] = m as unknown as [string, string, string];
        const fromPending = kind !== 'Committed' ? pending.get(id) : undefined;
        const fromCommitted = kind !== 'Uncommitted' ? committed.find((c) => c.id === id)?.data : undefined;
        const data = fromPending ?? fromCommitted;
        if (!data) {
          storageFail(ctx, 400, 'InvalidBlockList', 'The specified block list is invalid.');
          return;
        }
        parts.push({ id, data });
      }
      const meta = storeBlob(key, Buffer.concat(parts.map((p) => p.data)), ctx, parts);
      send(ctx, 201, undefined, {
        ...storageHeaders(ctx),
        ETag: meta.etag,
        'Last-Modified': meta.lastModified,
        'x-ms-content-crc64': randomBytes(8).toString('base64'),
        'x-ms-request-server-encrypted': 'true',
      });
      return;
    }
    if ((ctx.method === 'GET' || ctx.method === 'HEAD') && comp === null) {
      const data = state.blobs.get(key);
      const meta = blobMeta.get(key);
      if (!data || !meta) {
        storageFail(ctx, 404, 'BlobNotFound', 'The specified blob does not exist.');
        return;
      }
      const common = {
        ...storageHeaders(ctx),
        ETag: meta.etag,
        'Last-Modified': meta.lastModified,
        'x-ms-creation-time': meta.created,
        'x-ms-blob-type': 'BlockBlob',
        'x-ms-server-encrypted': 'true',
        'x-ms-lease-state': 'available',
        'x-ms-lease-status': 'unlocked',
        'Accept-Ranges': 'bytes',
        'Content-Type': meta.contentType,
      };
      const range = /^bytes=(\d+)-(\d*)$/.exec(
        ctx.req.headers['x-ms-range']?.toString() ?? ctx.req.headers.range?.toString() ?? '',
      );
      if (range && ctx.method === 'GET') {
        const start = Number(range[1]);
        const end = Math.min(range[2] ? Number(range[2]) : data.length - 1, data.length - 1);
        if (start >= data.length) {
          storageFail(
            ctx,
            416,
            'InvalidRange',
            'The range specified is invalid for the current size of the resource.',
          );
          return;
        }
        send(ctx, 206, data.subarray(start, end + 1), {
          ...common,
          'Content-Range': `bytes ${start}-${end}/${data.length}`,
          'x-ms-blob-content-md5': meta.contentMd5,
        });
        return;
      }
      send(ctx, 200, ctx.method === 'HEAD' ? undefined : data, {
        ...common,
        'Content-Length': data.length,
        'Content-MD5': meta.contentMd5,
      });
      return;
    }
    if (ctx.method === 'DELETE' && comp === null) {
      if (!state.blobs.delete(key)) {
        storageFail(ctx, 404, 'BlobNotFound', 'The specified blob does not exist.');
        return;
      }
      blobMeta.delete(key);
      send(ctx, 202, undefined, { ...storageHeaders(ctx), 'x-ms-delete-type-permanent': 'true' });
      return;
    }
    storageFail(
      ctx,
      400,
      'UnsupportedQueryParameter',
      'One of the query parameters specified in the request URI is not supported.',
    );
  }

  // ------------------------------------------------------------ the listener

  function injected(ctx: Ctx): boolean {
    const i = injections.findIndex((f) => {
      if (f.remaining <= 0) return false;
      if (f.method && f.method.toUpperCase() !== ctx.method) return false;
      f.path.lastIndex = 0;
      if (f.path.test(ctx.url.pathname)) return true;
      f.path.lastIndex = 0;
      return f.path.test(`${ctx.url.pathname}${ctx.url.search}`);
    });
    const f = injections[i];
    if (!f) return false;
    f.remaining--;
    if (f.remaining <= 0) injections.splice(i, 1);
    const isBlob = ctx.low[0] === 'blob';
    const code =
      f.status === 429
        ? isBlob
          ? 'ServerBusy'
          : 'TooManyRequests'
        : f.status === 503
          ? 'ServiceUnavailable'
          : f.status >= 500
            ? 'InternalServerError'
            : 'InjectedFailure';
    const message =
      f.status === 429
        ? 'The request is being throttled. Please retry after the time in the Retry-After header.'
        : `Injected ${f.status}.`;
    let body: Json = f.body;
    let contentType = 'application/json; charset=utf-8';
    if (body === undefined) {
      if (isBlob) {
        body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
        contentType = 'application/xml';
      } else {
        body = { error: { code, message } };
      }
    }
    send(ctx, f.status, body, { 'x-ms-request-id': randomUUID(), ...(f.headers ?? {}) }, contentType);
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const method = (req.method ?? 'GET').toUpperCase();
    // Concatenated, not resolved: a path starting with // (getById's /{resourceId}) is not a host.
    const parsed = new URL(`${url}${req.url ?? '/'}`);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const entry: EmulatedRequest = { method, path: req.url ?? '/', status: 0, headers, time: Date.now() };
    requests.push(entry);
    const segs = parsed.pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          return s;
        }
      });
    const ctx: Ctx = {
      req,
      res,
      method,
      url: parsed,
      body: Buffer.concat(chunks),
      entry,
      segs,
      low: segs.map(lower),
    };
    try {
      if (injected(ctx)) return;
      if (ctx.low[0] === 'blob') blob(ctx);
      else if (!entra(ctx)) arm(ctx);
    } catch (err) {
      if (err instanceof ArmError) armFail(ctx, err);
      else
        armFail(
          ctx,
          new ArmError(500, 'InternalServerError', `Azure emulator: ${(err as Error).stack ?? err}`),
        );
    }
  }

  const server = createServer(
    { key: await privateKeyPem(leaf.keyPair.privateKey), cert: leaf.cert.toPem(), keepAliveTimeout: 5_000 },
    (req, res) => {
      handle(req, res).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(err));
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  emu.url = url;
  return emu;
}

// ---------------------------------------------------------------- what-if helpers

function mergeDeep(a: Json, b: Json): Json {
  if (!isObject(a) || !isObject(b)) return clone(b);
  const out: Record<string, Json> = clone(a);
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? mergeDeep(out[k], v) : clone(v);
  return out;
}

/** The property changes from `before` to `after`, as what-if reports them (paths like `sku.capacity`). */
function diff(before: Json, after: Json, path = ''): Json[] {
  const out: Json[] = [];
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  for (const k of keys) {
    const b = before?.[k];
    const a = after?.[k];
    const p = path ? `${path}.${k}` : k;
    if (a === undefined && b !== undefined) out.push({ path: p, propertyChangeType: 'Delete', before: b });
    else if (b === undefined && a !== undefined)
      out.push({ path: p, propertyChangeType: 'Create', after: a });
    else if (isObject(a) && isObject(b)) out.push(...diff(b, a, p));
    else if (!deepEqual(a, b)) out.push({ path: p, propertyChangeType: 'Modify', before: b, after: a });
  }
  return out;
}
