// Credentials never travel inside a URL we keep: URLs end up in artifacts, locks, stamps, Nx's cache and
// `arr show`, while keys belong in judge.api_key (an environment reference that is never written).

/** Query parameters that carry a secret by convention (compared without regard to case). */
export const SECRET_QUERY_PARAMS = ['key', 'api-key', 'api_key', 'apikey', 'token', 'access_token', 'sig'] as const;

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const USERINFO = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s@]+@/i;

/**
 * What is secret in a URL, in words that never repeat the secret, or undefined when nothing is.
 * Finds a user name or password (`http://user:KEY@host`) and the query parameters of
 * SECRET_QUERY_PARAMS (`?api-key=KEY`). Strings that are not URLs (no `scheme://`) are never flagged.
 * @example urlSecret('http://u:k@host/v1') // 'a user name and password before the host'
 */
export function urlSecret(value: string): string | undefined {
  const text = value.trim();
  if (!SCHEME.test(text)) return undefined;
  if (USERINFO.test(text)) return 'a user name and password before the host';
  let params: string[];
  try {
    params = [...new URL(text).searchParams.keys()];
  } catch {
    // Not parseable as a whole: look at the raw query text instead.
    const query = text.split('#')[0].split('?').slice(1).join('?');
    params = query.split('&').map((p) => decodeURIComponentSafe(p.split('=')[0]));
  }
  const found = params.filter((p) => (SECRET_QUERY_PARAMS as readonly string[]).includes(p.toLowerCase()));
  if (found.length) return `the secret query parameter${found.length > 1 ? 's' : ''} ${[...new Set(found)].join(', ')}`;
  return undefined;
}

/**
 * The full refusal for a URL-valued setting, or undefined when it is clean.
 * @param where what holds the URL (`judge.base_url`, `ARR_CACHE_REMOTE`, `--base-url`)
 * @param source where its value came from, when that is not `where` itself (`the variable ARR_JUDGE_URL`)
 */
export function urlSecretMessage(where: string, value: string, source?: string): string | undefined {
  const problem = urlSecretProblem(value, source);
  return problem && `${where}: ${problem}`;
}

/** urlSecretMessage without the leading `where: `, for diagnostics that name their field already. */
export function urlSecretProblem(value: string, source?: string): string | undefined {
  const secret = urlSecret(value);
  if (!secret) return undefined;
  const from = source ? ` (its value comes from ${source})` : '';
  return `the URL holds ${secret}${from}; credentials are never kept in a URL (value not shown). Put the key in judge.api_key as an environment reference such as \${ARR_JUDGE_API_KEY}`;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
