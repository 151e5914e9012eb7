/**
 * Where a forwarded request goes on the connection point: the published
 * prefix's internal URL, plus the rest of the client's raw target after that
 * prefix. URL validation at the gateway refused encoded `/`, so the raw and
 * the decoded path have the same segments: the rest is cut by segment count,
 * and stays exactly as the client encoded it.
 */
export function restAfterPrefix(rawTarget: string, prefix: string): string | undefined {
  const q = rawTarget.indexOf('?');
  const path = q === -1 ? rawTarget : rawTarget.slice(0, q);
  const query = q === -1 ? '' : rawTarget.slice(q);
  const prefixSegments = prefix.split('/');
  const segments = path.split('/');
  if (segments.length < prefixSegments.length) return undefined;
  for (let i = 0; i < prefixSegments.length; i++) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segments[i] as string);
    } catch {
      return undefined;
    }
    if (decoded.toLowerCase() !== (prefixSegments[i] as string).toLowerCase()) return undefined;
  }
  const rest = segments.slice(prefixSegments.length).join('/');
  return (segments.length > prefixSegments.length ? `/${rest}` : '') + query;
}
