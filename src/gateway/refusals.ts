/**
 * Every answer the gateway gives instead of forwarding: status and the stable
 * code sent in `x-cmg-error` and logged with the request (CONTRACT.md).
 * Codes follow the original CMG's `CMGService_...` naming.
 */
export const Refusal = {
  badRequest: { status: 400, code: 'CMGService_BadRequest' },
  invalidUrl: { status: 400, code: 'CMGService_InvalidUrl' },
  ambiguousLength: { status: 400, code: 'CMGService_AmbiguousContentLength' },
  clientCertificateRequired: { status: 403, code: 'CMGService_ClientCertificateRequired' },
  clientCertificateInvalid: { status: 403, code: 'CMGService_ClientCertificateInvalid' },
  notFound: { status: 404, code: 'CMGService_NotFound' },
  contentTooLarge: { status: 413, code: 'CMGService_ContentTooLarge' },
  urlTooLong: { status: 414, code: 'CMGService_UrlTooLong' },
  headersTooLarge: { status: 431, code: 'CMGService_HeadersTooLarge' },
  connectionPointFailed: { status: 502, code: 'CMGService_ConnectionPointFailed' },
  noConnectionPoint: { status: 503, code: 'CMGService_NoHealthyConnectionPoint' },
  timeout: { status: 504, code: 'CMGService_RequestTimeout' },
  /** A bug in the gateway: answered rather than left hanging, and logged with its stack. */
  internalError: { status: 500, code: 'CMGService_InternalError' },
} as const;

export type RefusalKind = keyof typeof Refusal;

/** A refused request: which refusal, and the reason that goes to the log (never the client). */
export interface Refused {
  refused: RefusalKind;
  reason: string;
}
