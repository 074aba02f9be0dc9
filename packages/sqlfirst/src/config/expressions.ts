/**
 * The subset of HCL expressions an atlas.hcl needs: "${...}" templates, getenv(), urlescape(),
 * var.NAME, local.NAME, string/number/boolean literals and lists. hcl2json hands us each
 * attribute as JSON whose strings are templates; anything outside the subset is refused by
 * name rather than guessed at.
 */

export type Value = string | number | boolean | Value[];

/** How an expression reaches the outside world: environment variables, variables and locals. */
export interface Scope {
  /**
   * the variable's value, "" when it is not set (as Atlas's getenv does); `optional` when the
   * read only tests whether it is set (a conditional's test), so an unset one is not missing
   */
  getenv(name: string, optional: boolean): string;
  reference(kind: 'var' | 'local', name: string): Value;
  /** called with every value an expression makes, so the caller can bound size and time */
  made(value: Value): void;
}

/** A problem in the expression `fragment`, reported by the caller with the file and line. */
export class ExpressionProblem extends Error {
  constructor(
    /** text to look for in atlas.hcl to find the line; undefined when there is none */
    readonly fragment: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

type Expression =
  | { kind: 'literal'; value: number | boolean }
  | { kind: 'template'; parts: TemplatePart[] }
  | { kind: 'list'; items: Expression[] }
  | { kind: 'call'; name: 'getenv' | 'urlescape'; argument: Expression }
  | { kind: 'reference'; scope: 'var' | 'local'; name: string }
  | { kind: 'conditional'; left: Expression; equal: boolean; right: Expression; then: Expression; otherwise: Expression };

/** literal text, or an interpolation with its source text (to name it in errors) */
type TemplatePart = string | { expression: Expression; text: string };

/** how deeply lists, calls, conditionals and strings may nest inside one expression */
export const MAX_NESTING = 32;

const SUPPORTED =
  'sqlfirst understands strings, numbers, booleans, lists, getenv(), urlescape(), var.NAME, local.NAME and A == B ? X : Y (or !=)';

function unsupported(text: string, hint?: string): ExpressionProblem {
  return new ExpressionProblem(text, `the expression ${text} is not supported${hint ? ` (${hint})` : ''}; ${SUPPORTED}, so simplify it`);
}

/** Evaluates one attribute value as hcl2json gives it; null (HCL's "unset") is undefined. */
export function evaluateJson(json: unknown, scope: Scope, depth = 0): Value | undefined {
  if (json === null || json === undefined) return undefined;
  if (depth > MAX_NESTING) throw new ExpressionProblem(undefined, `a list is nested more than ${MAX_NESTING} levels deep (the limit); flatten it`);
  if (typeof json === 'string') return evaluate(parseTemplate(json, false, depth), scope, json);
  if (typeof json === 'number' || typeof json === 'boolean') return json;
  if (Array.isArray(json)) return json.map((item) => evaluateJson(item, scope, depth + 1) ?? nullInList());
  throw new ExpressionProblem(undefined, `a map or block is not supported here; ${SUPPORTED}`);
}

function nullInList(): never {
  throw new ExpressionProblem(undefined, 'a list holds null; remove it');
}

function evaluate(expression: Expression, scope: Scope, text: string, optional = false): Value {
  const value = evaluateUnmeasured(expression, scope, text, optional);
  scope.made(value);
  return value;
}

function evaluateUnmeasured(expression: Expression, scope: Scope, text: string, optional: boolean): Value {
  switch (expression.kind) {
    case 'literal':
      return expression.value;
    case 'list':
      return expression.items.map((item) => evaluate(item, scope, text, optional));
    case 'reference':
      return scope.reference(expression.scope, expression.name);
    case 'call': {
      const argument = asText(evaluate(expression.argument, scope, text, optional), text);
      return expression.name === 'getenv' ? scope.getenv(argument, optional) : urlEscape(argument);
    }
    case 'template':
      return evaluateTemplate(expression.parts, scope, optional);
    case 'conditional': {
      // the test only asks whether variables are set: getenv("X") != "" ? getenv("X") : "5432"
      const left = evaluate(expression.left, scope, text, true);
      const right = evaluate(expression.right, scope, text, true);
      const same = JSON.stringify(left) === JSON.stringify(right);
      return evaluate(same === expression.equal ? expression.then : expression.otherwise, scope, text, optional);
    }
  }
}

function evaluateTemplate(parts: TemplatePart[], scope: Scope, optional: boolean): Value {
  // as in HCL, "${x}" alone is x itself, not x converted to a string
  const [only] = parts;
  if (parts.length === 1 && typeof only !== 'string') return evaluate(only.expression, scope, only.text, optional);
  return parts
    .map((part) => (typeof part === 'string' ? part : asText(evaluate(part.expression, scope, part.text, optional), part.text)))
    .join('');
}

function asText(value: Value, text: string): string {
  if (Array.isArray(value)) {
    throw new ExpressionProblem(text, `the expression ${text} is a list where a string is needed; use a single value`);
  }
  return String(value);
}

/**
 * Percent-encodes every byte but A-Z a-z 0-9 - _ . ~, like Go's url.QueryEscape (Atlas's
 * urlescape) except that a space becomes %20, not "+": in a URL's password "+" is a plus.
 */
export function urlEscape(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * A template: literal text with "${...}" interpolations. Top-level JSON strings come
 * already unescaped; string literals inside an expression still carry HCL escapes.
 */
function parseTemplate(text: string, escaped: boolean, depth = 0): Expression {
  if (depth > MAX_NESTING) throw new ExpressionProblem(undefined, `an expression is nested more than ${MAX_NESTING} levels deep (the limit); flatten it`);
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i) || text.startsWith('%%{', i)) {
      literal += text.slice(i + 1, i + 3);
      i += 3;
    } else if (text.startsWith('${', i) || text.startsWith('%{', i)) {
      const end = closingBrace(text, i + 2);
      const inner = text.slice(i + 2, end).trim();
      if (text[i] === '%') throw unsupported(`%{${inner}}`, 'template directives');
      if (literal) parts.push(literal);
      literal = '';
      parts.push({ expression: parseExpression(inner, depth + 1), text: inner });
      i = end + 1;
    } else if (escaped && text[i] === '\\') {
      const [character, length] = unescape(text, i);
      literal += character;
      i += length;
    } else {
      literal += text[i++];
    }
  }
  if (literal || parts.length === 0) parts.push(literal);
  return { kind: 'template', parts };
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

/** The character of the escape sequence at `at` and the sequence's length. */
function unescape(text: string, at: number): [string, number] {
  const letter = text[at + 1];
  if (letter in ESCAPES) return [ESCAPES[letter], 2];
  const digits = letter === 'u' ? 4 : letter === 'U' ? 8 : 0;
  const hex = text.slice(at + 2, at + 2 + digits);
  if (digits && /^[0-9a-fA-F]+$/.test(hex) && hex.length === digits) return [String.fromCodePoint(parseInt(hex, 16)), 2 + digits];
  throw new ExpressionProblem(text, `the string "${text}" has an invalid escape \\${letter ?? ''}; use \\n, \\t, \\", \\\\ or \\uXXXX`);
}

/** The index of the "}" that closes an interpolation opened just before `from`. */
function closingBrace(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '"') i = closingQuote(text, i);
    else if (text[i] === '{') depth++;
    else if (text[i] === '}' && depth-- === 0) return i;
  }
  throw new ExpressionProblem(text, `the string "${text}" has a "\${" without its closing "}"; close it`);
}

/** The index of the quote that ends the string literal opening at `open`. */
function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text.startsWith('$${', i)) i += 2;
    else if (text.startsWith('${', i) || text.startsWith('%{', i)) i = closingBrace(text, i + 2);
    else if (text[i] === '"') return i;
  }
  throw new ExpressionProblem(text, `the expression ${text} has a string without its closing quote; close it`);
}

interface Token {
  type: 'name' | 'number' | 'string' | 'symbol' | 'end';
  text: string;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:([A-Za-z_][\w-]*)|(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(==|!=|[()[\],.?:])|("))/y;
  let at = 0;
  for (;;) {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (!match) break;
    const [, name, number, symbol, quote] = match;
    at = pattern.lastIndex;
    if (quote) {
      const end = closingQuote(text, at - 1);
      tokens.push({ type: 'string', text: text.slice(at, end) });
      at = end + 1;
    } else {
      tokens.push(name ? { type: 'name', text: name } : number ? { type: 'number', text: number } : { type: 'symbol', text: symbol });
    }
  }
  if (text.slice(at).trim()) throw unsupported(text);
  tokens.push({ type: 'end', text: '' });
  return tokens;
}

/** Recursive descent over one interpolation's text; anything unexpected is "not supported". */
function parseExpression(text: string, depth: number): Expression {
  const tokens = tokenize(text);
  let position = 0;
  let nesting = depth;
  const next = () => tokens[position++];
  const peek = (symbol: string) => tokens[position].type === 'symbol' && tokens[position].text === symbol;
  const expect = (symbol: string) => {
    if (!peek(symbol)) throw unsupported(text);
    position++;
  };

  const items = (close: string): Expression[] => {
    const list: Expression[] = [];
    while (!peek(close)) {
      list.push(primary());
      if (!peek(close)) expect(',');
    }
    position++;
    return list;
  };

  const primary = (): Expression => {
    if (++nesting > MAX_NESTING) throw new ExpressionProblem(undefined, `the expression ${text.slice(0, 40)}… is nested more than ${MAX_NESTING} levels deep (the limit); flatten it`);
    try {
      return primaryUnbounded();
    } finally {
      nesting--;
    }
  };

  const primaryUnbounded = (): Expression => {
    const token = next();
    if (token.type === 'string') return parseTemplate(token.text, true, nesting);
    if (token.type === 'number') return { kind: 'literal', value: Number(token.text) };
    if (token.type === 'symbol' && token.text === '[') return { kind: 'list', items: items(']') };
    if (token.type !== 'name') throw unsupported(text);
    if (token.text === 'true' || token.text === 'false') return { kind: 'literal', value: token.text === 'true' };
    if (peek('(')) {
      if (token.text !== 'getenv' && token.text !== 'urlescape') throw unsupported(text, `${token.text}() is not one of its functions`);
      position++;
      const args = items(')');
      if (args.length !== 1) throw unsupported(text, `${token.text}() takes one argument`);
      return { kind: 'call', name: token.text, argument: args[0] };
    }
    if (peek('.') && (token.text === 'var' || token.text === 'local')) {
      position++;
      const name = next();
      if (name.type !== 'name') throw unsupported(text);
      return { kind: 'reference', scope: token.text, name: name.text };
    }
    throw unsupported(text);
  };

  // A == B ? X : Y and A != B ? X : Y, the HCL conditional an optional variable needs
  const conditional = (): Expression => {
    const left = primary();
    if (!peek('==') && !peek('!=')) return left;
    const equal = next().text === '==';
    const right = primary();
    expect('?');
    const then = conditional();
    expect(':');
    return { kind: 'conditional', left, equal, right, then, otherwise: conditional() };
  };

  const expression = conditional();
  if (tokens[position].type !== 'end') throw unsupported(text);
  return expression;
}
