/**
 * Which environment variable lands where in a URL that atlas.hcl builds, so a bad value is
 * reported by the variable's name ("PG_SANDBOX_HOST is "myhost:5433"; …") instead of as an
 * invalid URL the user never wrote. The URL is evaluated with a place holder for each
 * variable (AtlasDocument.trace) and split by its structure alone: the place holders hold no
 * character that delimits a URL part, so the structure is that of atlas.hcl's literal text.
 */
import { urlEscape } from './expressions.js';

export type UrlPart = 'user' | 'password' | 'host' | 'port' | 'database' | 'parameters';

/** The parts of a URL, split at its delimiters without decoding or validating anything. */
export function splitUrl(text: string): Partial<Record<UrlPart, string>> | undefined {
  const scheme = text.indexOf('://');
  if (scheme === -1) return undefined;
  const rest = text.slice(scheme + 3);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  const at = authority.lastIndexOf('@');
  const parts: Partial<Record<UrlPart, string>> = {};
  if (at !== -1) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    parts.user = colon === -1 ? userinfo : userinfo.slice(0, colon);
    if (colon !== -1) parts.password = userinfo.slice(colon + 1);
  }
  const hostPort = authority.slice(at + 1);
  const portColon = hostPort.startsWith('[') ? hostPort.indexOf(':', hostPort.indexOf(']')) : hostPort.lastIndexOf(':');
  parts.host = portColon === -1 ? hostPort : hostPort.slice(0, portColon);
  if (portColon !== -1) parts.port = hostPort.slice(portColon + 1);
  const query = tail.search(/[?#]/);
  parts.database = (query === -1 ? tail : tail.slice(0, query)).replace(/^\//, '');
  if (query !== -1) parts.parameters = tail.slice(query + 1);
  return parts;
}

export interface Placement {
  part: UrlPart;
  /** the part is the variable's value and nothing else */
  whole: boolean;
  /** urlescape() encodes it */
  escaped: boolean;
}

/** Where each variable of a traced URL lands: name → placement. */
export function placeVariables(traced: string, placeholders: Map<string, string>): Map<string, Placement> {
  const parts = splitUrl(traced);
  const placed = new Map<string, Placement>();
  if (!parts) return placed;
  for (const [holder, name] of placeholders) {
    for (const [part, text] of Object.entries(parts) as [UrlPart, string][]) {
      const escaped = text.includes(urlEscape(holder));
      if (!escaped && !text.includes(holder)) continue;
      placed.set(name, { part, whole: text === holder || text === urlEscape(holder), escaped });
      break;
    }
  }
  return placed;
}

/** Parts whose values are shown on purpose (in the masked URL); every other variable is a secret. */
export const SHOWN_PARTS: readonly UrlPart[] = ['user', 'host', 'port', 'database'];

/**
 * The first variable whose value cannot stand where atlas.hcl puts it, as "what it holds;
 * what to write"; undefined when every value fits.
 */
export function misplacedValue(placed: Map<string, Placement>, values: ReadonlyMap<string, string>): string | undefined {
  const portVariable = [...placed].find(([, where]) => where.part === 'port' && where.whole)?.[0];
  for (const [name, where] of placed) {
    const value = values.get(name);
    if (value === undefined || !where.whole) continue;
    const problem = partProblem(name, value, where, portVariable);
    if (problem) return problem;
  }
  return undefined;
}

function partProblem(name: string, value: string, where: Placement, portVariable: string | undefined): string | undefined {
  const escapeIt = `write urlescape(getenv("${name}")) in atlas.hcl`;
  switch (where.part) {
    case 'host': {
      if (/^[A-Za-z0-9._-]+$/.test(value) || /^\[[0-9A-Fa-f:.]+\]$/.test(value)) return undefined;
      if (value.includes('://')) return `${name} is "${value}"; it must be a host name only (such as db.example.com), not a URL`;
      if (/^[^:/@]+:\d+$/.test(value)) {
        return `${name} is "${value}"; it must be a host name only — put the port in ${portVariable ?? "the url's port in atlas.hcl"}`;
      }
      if (value.includes(':') && !value.includes('/')) return `${name} is "${value}"; an IPv6 address must be written in brackets, as in [${value}]`;
      return `${name} is "${value}"; it must be a host name or IP address only (such as db.example.com)`;
    }
    case 'port': {
      const port = /^\d{1,5}$/.test(value) ? Number(value) : 0;
      return port >= 1 && port <= 65535 ? undefined : `${name} is "${value}"; it must be a port number (1–65535) such as 5432`;
    }
    case 'user':
      return where.escaped || !/[@:/?#%\s]/.test(value) ? undefined : `${name} is "${value}", which holds characters that break a URL; ${escapeIt}`;
    case 'password':
      // never echoed: it is a password
      return where.escaped || !/[/?#%\s]/.test(value) ? undefined : `${name} holds characters that break a URL (/ ? # % or spaces); ${escapeIt}`;
    case 'database':
      return where.escaped || !/[/?#%\s]/.test(value) ? undefined : `${name} is "${value}", which holds characters that break a URL; ${escapeIt}`;
    case 'parameters':
      return undefined;
  }
}
