/**
 * Several writes as ONE statement: each becomes a data-modifying CTE of
 * `WITH w0 AS (…), w1 AS (…) SELECT …`. PostgreSQL runs every data-modifying
 * statement in WITH exactly once and to completion, referenced or not, all on
 * the statement's one snapshot (docs §7.8.4 "Data-Modifying Statements in
 * WITH"). One round trip instead of one per write: on this 2-core machine a
 * loopback round trip costs the tracker ~100 µs of system time, more than
 * most of these statements cost the server (issue 5's profile).
 *
 * The rule that comes with the snapshot: the parts cannot see each other's
 * effects and must not modify the same row twice (docs §7.8.4), so callers
 * merge what touches one row into one part.
 */
export interface Statement {
  sql: string;
  params: unknown[];
}

/** `$n` placeholders of each part renumbered after the parts before it; `select` is the main query (default `SELECT 1 AS done`). */
export function combine(parts: readonly Statement[], select?: Statement): Statement {
  const params: unknown[] = [];
  const renumber = (s: Statement): string => {
    const offset = params.length;
    params.push(...s.params);
    return s.sql.replace(/\$(\d+)/g, (_, d: string) => `$${Number(d) + offset}`);
  };
  if (parts.length === 0) return select ?? { sql: 'SELECT 1 AS done', params: [] };
  const ctes = parts.map((p, i) => `w${i} AS (${renumber(p)})`);
  const main = select === undefined ? 'SELECT 1 AS done' : renumber(select);
  return { sql: `WITH ${ctes.join(',\n')}\n${main}`, params };
}
