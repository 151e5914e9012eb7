import type { ServerResponse } from 'node:http';
import { ChannelHeader } from '../channel/protocol.js';
import { Refusal, type RefusalKind } from './refusals.js';

/** Seconds a client is told to wait when no connection point can take its request (503). */
export const RETRY_AFTER_SECONDS = 10;

const TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Content Too Large',
  500: 'Internal Server Error',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * The gateway's own answer to a refused request: the status, the stable code
 * in `x-cmg-error`, and a short body naming it. The reason stays in the log:
 * it may describe the client's certificate or the site's layout.
 */
export function answerRefusal(
  res: ServerResponse,
  kind: RefusalKind,
  options: { close?: boolean } = {},
): number {
  const { status, code } = Refusal[kind];
  const body = `${status} ${TEXT[status] ?? ''} (${code})\n`;
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    [ChannelHeader.error]: code,
  };
  if (kind === 'noConnectionPoint') headers['retry-after'] = RETRY_AFTER_SECONDS;
  // After a refusal that left a body unread (or a broken framing), the connection cannot be trusted to be in step.
  if (options.close) {
    headers.connection = 'close';
    res.shouldKeepAlive = false;
  }
  res.writeHead(status, headers);
  res.end(body);
  return status;
}
