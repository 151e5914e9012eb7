import type { Certificate } from '../certs/certificate.js';
import { type TrustStore, type VerifyResult, verifyChain } from '../certs/verify.js';
import type { Refused } from './refusals.js';

/** What the gateway learns from a client's certificate: the verified certificate, or why it is refused. */
export type ClientAuthResult =
  | { ok: true; certificate: Certificate }
  | ({ ok: false } & Refused & { code?: string });

export interface ClientAuthOptions {
  trust: TrustStore;
  requireCrl: boolean;
  /** How long a verdict is reused for the same chain; CRLs and validity are re-read after that. */
  cacheMs: number;
  now?: () => number;
}

/**
 * The client certificate step of the request pipeline. Verification (chain,
 * dates, Client Authentication EKU, revocation) is the same code as
 * `cmg certs verify`; verdicts are cached per presented chain for a short time,
 * because a client opens many connections with the same certificate and a CRL
 * check costs a signature verification per link. A reload replaces the whole
 * object, so new trust material never meets an old verdict.
 */
export class ClientAuthenticator {
  private readonly cache = new Map<string, { at: number; result: VerifyResult }>();

  constructor(private readonly options: ClientAuthOptions) {}

  /** `presented`: the client's certificate first, then whatever chain it sent. */
  async check(presented: Certificate[]): Promise<ClientAuthResult> {
    const leaf = presented[0];
    if (!leaf)
      return {
        ok: false,
        refused: 'clientCertificateRequired',
        reason: 'no client certificate was presented',
      };
    const now = this.options.now?.() ?? Date.now();
    const key = presented.map((c) => c.thumbprint).join(':');
    let entry = this.cache.get(key);
    if (!entry || now - entry.at > this.options.cacheMs) {
      const result = await verifyChain({
        leaf,
        presented: presented.slice(1),
        trust: this.options.trust,
        purpose: 'client',
        requireCrl: this.options.requireCrl,
        at: new Date(now),
      });
      entry = { at: now, result };
      this.cache.set(key, entry);
      if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
    }
    const { result } = entry;
    if (result.ok) return { ok: true, certificate: leaf };
    const first = result.failures[0];
    return {
      ok: false,
      refused: 'clientCertificateInvalid',
      reason: result.failures
        .map((f) => `${f.code} at depth ${f.depth} (${f.subject}): ${f.message}`)
        .join('; '),
      ...(first ? { code: first.code } : {}),
    };
  }
}
