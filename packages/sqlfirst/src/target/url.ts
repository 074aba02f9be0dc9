import { SqlfirstError } from '../errors.js';
import { registerSecret } from './secrets.js';

/** A PostgreSQL connection target, parsed once and checked. */
export interface ConnectionTarget {
  /** the URL as given, with credentials; never print it */
  url: string;
  user: string;
  host: string;
  port: number;
  database: string;
  sslmode: SslMode;
  /** the CA certificate file that verifies the server (sslrootcert=FILE in the URL, else PGSSLROOTCERT); "system" = this machine's CAs */
  sslRootCert?: string;
}

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** Parses and validates a postgres:// URL; the password is registered for redaction. `env` supplies PGSSLROOTCERT. */
export function parseTarget(url: string, what = 'database URL', env: Record<string, string | undefined> = process.env): ConnectionTarget {
  refuseUnencodedCredentials(url, what);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SqlfirstError(`The ${what} is not a valid URL; write it as postgres://user@host:5432/dbname (with user:password before the @ when there is a password).`);
  }
  if (parsed.password) registerSecret(parsed.password);
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new SqlfirstError(
      `The ${what} ${maskUrl(url)} does not start with postgres://; write it as postgres://user@host:5432/dbname (with user:password before the @ when there is a password).`,
    );
  }
  const decode = (text: string, part: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw new SqlfirstError(`The ${what} ${maskUrl(url)} has a % in its ${part} that is not followed by two hexadecimal digits; write a literal % as %25.`);
    }
  };
  decode(parsed.password, 'password');
  const user = decode(parsed.username, 'user name');
  const database = decode(parsed.pathname.replace(/^\//, ''), 'database name');
  if (!database) {
    throw new SqlfirstError(`The ${what} ${maskUrl(url)} names no database; add one after the host, as in postgres://user@host:5432/dbname.`);
  }
  if (!parsed.hostname) {
    throw new SqlfirstError(`The ${what} ${maskUrl(url)} names no host; write it as postgres://user@host:5432/dbname (with user:password before the @ when there is a password).`);
  }
  const sslmode = (parsed.searchParams.get('sslmode') ?? 'prefer') as SslMode;
  if (!SSL_MODES.includes(sslmode)) {
    throw new SqlfirstError(
      `The ${what} ${maskUrl(url)} has an unknown sslmode "${sslmode}"; use one of ${SSL_MODES.join(', ')}.`,
    );
  }
  const sslRootCert = parsed.searchParams.get('sslrootcert') || env.PGSSLROOTCERT || undefined;
  return {
    url,
    user,
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : 5432,
    database,
    sslmode,
    ...(sslRootCert ? { sslRootCert } : {}),
  };
}

/**
 * postgres://user:pa/ss@host/db: a / ? or # in the user name or password ends the host part
 * early, so the URL would name another host, and the rest of the password would show
 * wherever the URL is printed. Refuse it without echoing any of it.
 */
function refuseUnencodedCredentials(url: string, what: string): void {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  if (!scheme) return;
  const rest = url.slice(scheme[0].length);
  const at = rest.lastIndexOf('@');
  const authorityEnd = rest.search(/[/?#]/);
  if (at === -1 || authorityEnd === -1 || at < authorityEnd) return;
  const credentials = rest.slice(0, at);
  const colon = credentials.indexOf(':');
  if (colon !== -1) registerSecret(credentials.slice(colon + 1));
  throw new SqlfirstError(
    `The ${what} has an @ after its host part; if the user name or password holds characters such as @ : / ? # % or spaces, percent-encode them (urlescape() in atlas.hcl, encodeURIComponent() in JavaScript) and run again.`,
  );
}

/** The URL with its password replaced by ****, safe to print. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      registerSecret(parsed.password);
      parsed.password = '****';
    }
    // URL encodes the mask; show it plainly
    return parsed.toString().replace('%2A%2A%2A%2A', '****');
  } catch {
    // not a URL: hide everything from the user name's colon to the last @
    return url.replace(/(:\/\/[^:@/\s]*:).*@/, '$1****@');
  }
}

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}
