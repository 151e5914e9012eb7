/**
 * Longest-prefix routing on whole path segments, case-insensitively as IIS
 * matches paths: `/CCM_Proxy_MutualAuth/1/CCM_System` serves
 * `/ccm_proxy_mutualauth/1/ccm_system/request` but not `.../CCM_SystemX`.
 */
export interface Match<T> {
  prefix: string;
  value: T;
  /** The rest of the path after the prefix, starting with '/' or empty. */
  rest: string;
}

export class PrefixRouter<T> {
  private readonly routes = new Map<string, { prefix: string; value: T }>();

  private static key(prefix: string): string {
    return prefix.toLowerCase().replace(/\/+$/, '');
  }

  set(prefix: string, value: T): void {
    this.routes.set(PrefixRouter.key(prefix), { prefix, value });
  }

  /** The route published under exactly this prefix (ignoring case). */
  get(prefix: string): T | undefined {
    return this.routes.get(PrefixRouter.key(prefix))?.value;
  }

  values(): IterableIterator<{ prefix: string; value: T }> {
    return this.routes.values();
  }

  delete(prefix: string): boolean {
    return this.routes.delete(PrefixRouter.key(prefix));
  }

  get size(): number {
    return this.routes.size;
  }

  /** Longest published prefix of `path` (decoded, validated), or undefined. */
  match(path: string): Match<T> | undefined {
    const lower = path.toLowerCase();
    // Candidate prefixes end at a '/' or at the end of the path: walk from the longest down.
    for (let end = lower.length; end > 0; end = lower.lastIndexOf('/', end - 1)) {
      const hit = this.routes.get(lower.slice(0, end).replace(/\/+$/, ''));
      if (hit) {
        // Cut by segments, not offsets: lower-casing can change a string's length (İ), never its '/'s.
        const n = lower.slice(0, end).replace(/\/+$/, '').split('/').length;
        const parts = path.split('/');
        const rest = parts.length > n ? `/${parts.slice(n).join('/')}` : '';
        return { prefix: hit.prefix, value: hit.value, rest };
      }
    }
    return undefined;
  }
}

/** The namespace in which a client certificate is required (CONTRACT.md). */
export const MUTUAL_AUTH_PREFIX = '/ccm_proxy_mutualauth/';

export function needsClientCertificate(path: string): boolean {
  const lower = path.toLowerCase();
  return lower.startsWith(MUTUAL_AUTH_PREFIX) || lower === MUTUAL_AUTH_PREFIX.slice(0, -1);
}
