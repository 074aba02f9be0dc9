/**
 * Puts each type break under the planned schema change that most likely
 * caused it, by the TypeScript identifiers each change touches: a break is
 * filed under a change when its message or its source line mentions one of
 * them as a whole token. Nothing here reads SQL.
 */

/** One type error. */
export interface TypeBreak {
  /** relative to the repository root, forward slashes */
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
  /** the TypeScript error number, e.g. 2769 for TS2769 */
  code: number;
  /** the whole message: the first line, then the chain's continuation lines as the compiler indents them */
  message: string;
  /** the text of the line the break is on (trimmed), when it could be read */
  source?: string;
}

/**
 * A planned change, as the breaks are grouped under it.
 *
 * `identifiers` are the TypeScript names the change touches in the generated
 * Drizzle files, computed from the engine's object ids, never from SQL text:
 * for a dropped or altered column its property (`averagePrice`); for a table,
 * view or enum its exported variable (`orders`, `eventsInAudit`, `orderSide`);
 * a change may list its table's variable too. They are matched as exact
 * tokens (`orders` does not match `ordersCount`).
 */
export interface ChangeRef {
  /** what the report shows as the group's heading, e.g. the statement */
  label: string;
  identifiers: string[];
}

export interface BreakGroup {
  /** the change's label, or OTHER_CHANGES */
  change: string;
  breaks: TypeBreak[];
}

export const OTHER_CHANGES = 'other changes';

/** A JavaScript identifier (Unicode letters, digits, $ and _). */
const IDENTIFIER = /[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*/gu;

/**
 * Groups breaks under the changes, in plan order; breaks that mention no
 * change's identifier go last, under OTHER_CHANGES. Changes without breaks are
 * left out.
 *
 * When a break mentions identifiers of several changes, the change with the
 * highest score wins, each identifier counting 1 divided by the number of
 * changes that list it (a table's variable shared by ten changes says less
 * than the one column property only the drop lists); the earlier change wins
 * a tie.
 */
export function groupBreaks(breaks: TypeBreak[], changes: ChangeRef[]): BreakGroup[] {
  const listedBy = new Map<string, number>();
  const sets = changes.map((change) => new Set(change.identifiers));
  for (const set of sets) for (const name of set) listedBy.set(name, (listedBy.get(name) ?? 0) + 1);

  const groups = new Map<number, TypeBreak[]>();
  for (const item of breaks) {
    const tokens = new Set([...item.message.matchAll(IDENTIFIER), ...(item.source ?? '').matchAll(IDENTIFIER)].map((m) => m[0]));
    let best = -1;
    let bestScore = 0;
    sets.forEach((set, index) => {
      let score = 0;
      for (const name of set) if (tokens.has(name)) score += 1 / listedBy.get(name)!;
      if (score > bestScore) {
        best = index;
        bestScore = score;
      }
    });
    groups.set(best, [...(groups.get(best) ?? []), item]);
  }
  const result: BreakGroup[] = [];
  changes.forEach((change, index) => {
    const found = groups.get(index);
    if (found) result.push({ change: change.label, breaks: found });
  });
  const other = groups.get(-1);
  if (other) result.push({ change: OTHER_CHANGES, breaks: other });
  return result;
}
