/** Interim (the CLI owner replaces it): a sqlfirst command line as the user would type it. */
export function commandFor(args: string[]): string {
  return ['npx sqlfirst', ...args].join(' ');
}
