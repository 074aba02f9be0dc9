/** Small text helpers every stage uses; one copy each. */

/** The first line of a text (a statement, an error message), shortened to `max` characters. */
export function firstLine(text: string, max = 120): string {
  const line = text.split('\n')[0].trimEnd();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** `text` as a literal inside a regular expression. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** "1 statement", "3 statements" */
export function plural(count: number, noun: string, many = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : many}`;
}
