import type { Certificate } from '../certs/certificate.js';
import { checkDeclaredLength } from './body-limit.js';
import type { GatewayChannel } from './channel.js';
import type { ChannelRegistry, Route } from './channel-registry.js';
import type { ClientAuthenticator } from './client-auth.js';
import type { Refused } from './refusals.js';
import { needsClientCertificate } from './router.js';
import { isRefused, type ValidTarget, validateTarget } from './url.js';

/**
 * What the request path knows about one request. Each step reads what the
 * steps before it set and either adds to it or refuses the request; only a
 * request that passed every step is forwarded.
 */
export interface RequestContext {
  method: string;
  /** The request target exactly as the client sent it. */
  target: string;
  contentLength: string | undefined;
  /** The certificates the client presented on this connection, its own first. */
  presented: () => Certificate[];
  url?: ValidTarget;
  /** Set when the client presented a certificate that verified. */
  certificate?: Certificate;
  route?: Route;
  /** The endpoint's body limit, once routed. */
  maxContentLength?: number;
  channel?: GatewayChannel;
  /** For the log when a client certificate was refused: the verification code. */
  certificateError?: string;
}

export interface PipelineParts {
  maxUrlLength: number;
  defaultMaxContentLength: number;
  auth: () => ClientAuthenticator;
  registry: ChannelRegistry;
}

export type Step = (
  ctx: RequestContext,
  parts: PipelineParts,
) => Refused | undefined | Promise<Refused | undefined>;

/** 400/414: the URL is checked before anything else looks at it. */
export const validateUrl: Step = (ctx, parts) => {
  const result = validateTarget(ctx.target, parts.maxUrlLength);
  if (isRefused(result)) return result;
  ctx.url = result;
  return undefined;
};

/**
 * 403: the mutual-auth namespace needs a client certificate that verifies
 * (chain, dates, EKU, revocation). Elsewhere a certificate is optional, but
 * one that verifies is still passed on (XFCC) for the internal role's checks.
 */
export const authenticate: Step = async (ctx, parts) => {
  const required = needsClientCertificate(ctx.url?.path ?? '');
  let presented: Certificate[];
  try {
    presented = ctx.presented();
  } catch (err) {
    ctx.certificateError = 'CMG_CERT_UNREADABLE';
    const reason = `CMG_CERT_UNREADABLE: the client certificate cannot be parsed (${(err as Error).message})`;
    return required ? { refused: 'clientCertificateInvalid', reason } : undefined;
  }
  if (!required && presented.length === 0) return undefined;
  const result = await parts.auth().check(presented);
  if (result.ok) {
    ctx.certificate = result.certificate;
    return undefined;
  }
  if (result.code) ctx.certificateError = result.code;
  return required ? { refused: result.refused, reason: result.reason } : undefined;
};

/** 404: only what some connection point of a served site published is forwarded. */
export const route: Step = (ctx, parts) => {
  const match = parts.registry.routes.match(ctx.url?.path ?? '');
  if (!match) return { refused: 'notFound', reason: 'no connection point has published this path' };
  ctx.route = match.value;
  ctx.maxContentLength = match.value.maxContentLength ?? parts.defaultMaxContentLength;
  return undefined;
};

/** 413 before reading a byte when the declared length is over the endpoint's limit. */
export const limitBody: Step = (ctx) => checkDeclaredLength(ctx.contentLength, ctx.maxContentLength ?? 0);

/** 503 when the path is known but none of its connection points can take a request now. */
export const chooseChannel: Step = (ctx, parts) => {
  const route = ctx.route;
  const channel = route ? parts.registry.pick(route) : undefined;
  if (!channel) {
    return {
      refused: 'noConnectionPoint',
      reason: `no healthy connection point of site ${route?.site ?? '?'} publishes ${route?.prefix ?? 'this path'}`,
    };
  }
  ctx.channel = channel;
  return undefined;
};

/** The request path, in order (ARCHITECTURE.md). */
export const STEPS: readonly Step[] = [validateUrl, authenticate, route, limitBody, chooseChannel];

export async function runPipeline(ctx: RequestContext, parts: PipelineParts): Promise<Refused | undefined> {
  for (const step of STEPS) {
    const refused = await step(ctx, parts);
    if (refused) return refused;
  }
  return undefined;
}
