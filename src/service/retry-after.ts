/**
 * An HTTP `Retry-After` value, as the agent's two HTTP clients read it (the API link's refused upgrade,
 * the enrollment request): delay-seconds or an HTTP date, as RFC 9110 §10.2.3 allows.
 */

/** The wait in milliseconds; undefined when the header is missing or unreadable. */
export function retryAfterMs(
  value: string | string[] | null | undefined,
  now = Date.now(),
): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
