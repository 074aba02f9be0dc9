/**
 * Every password sqlfirst learns is registered here, and every line it prints
 * passes through `redact`, so a secret cannot reach the terminal even inside an
 * error message that a library built from a connection string.
 */
const secrets = new Set<string>();

/**
 * Shorter secrets are masked only inside URLs: replacing every "p" in the
 * output would garble it and hint at the password more than it hides.
 */
const MIN_FREE_TEXT_SECRET = 4;

export function registerSecret(secret: string | undefined): void {
  if (!secret || secret.length < MIN_FREE_TEXT_SECRET) return;
  for (const form of [secret, encodeURIComponent(secret), safeDecode(secret)]) {
    if (form) secrets.add(form);
  }
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** postgres://user:secret@host → postgres://user:****@host, anywhere in a text. */
const URL_PASSWORD = /\b(postgres(?:ql)?:\/\/[^:@/\s]*:)([^@\s]*)@/gi;

export function redact(text: string): string {
  let out = text.replace(URL_PASSWORD, '$1****@');
  // longest first, so a secret that contains another is replaced whole
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join('****');
  }
  return out;
}
