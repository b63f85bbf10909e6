/**
 * The credit side that people read (BOINC's user and team pages): a
 * provider's credit, recent average credit (RAC, decayed with its half-life
 * to `now`), verified and rejected counts and reputation, and the
 * leaderboard with team totals. The rules are validation/credit.ts's; the
 * judge (judge.ts) writes the rows this reads.
 */
import { SwarmError } from '../core/errors.ts';
import type { ProviderStatus, TeamStanding } from '../protocol/views.ts';
import type { TrackerContext } from './context.ts';
import type { Queryable } from './storage/db.ts';
import type { ProviderRecord } from './validation/adaptive.ts';
import { racAt, reputation } from './validation/credit.ts';

export type { ProviderStatus, TeamStanding } from '../protocol/views.ts';

/** A providers row as the credit code reads and writes it (bigints come back as strings). */
export interface ProviderRow {
  key_id: string;
  public_key: Uint8Array;
  name: string | null;
  team: string | null;
  valid_count: string;
  invalid_count: string;
  credit: number;
  rac: number;
  rac_time: string;
  record: ProviderRecord;
  /** the council decision that banned it (issue 20), or null */
  banned_by: string | null;
}

export const PROVIDER_COLUMNS = 'key_id, public_key, name, team, valid_count, invalid_count, credit, rac, rac_time, record, banned_by';

/** A providers row as the API shows it: the credit columns and the client (migration 12), which only the standings read. */
export interface StatusRow extends ProviderRow {
  client_kind: 'node' | 'browser' | null;
  client_engine: string | null;
}

/** PROVIDER_COLUMNS and the client; not in PROVIDER_COLUMNS, so what the judge locks and reads stays free of it. */
const STATUS_COLUMNS = `${PROVIDER_COLUMNS}, client_kind, client_engine`;

export async function providerRow(q: Queryable, keyId: string): Promise<StatusRow> {
  const rows = await q.query<StatusRow & Record<string, unknown>>(`SELECT ${STATUS_COLUMNS} FROM providers WHERE key_id = $1`, [keyId]);
  if (rows.length === 0) throw new SwarmError('TRACKER_UNKNOWN_PROVIDER', 'this key is not a registered provider; register first (POST /api/providers)');
  return rows[0]!;
}

/** A row as the API shows it, RAC decayed to `now`. */
export function statusOf(p: StatusRow, now: number): ProviderStatus {
  const valid = Number(p.valid_count);
  const invalid = Number(p.invalid_count);
  const racTime = Number(p.rac_time);
  return {
    providerId: p.key_id,
    name: p.name,
    team: p.team,
    credit: p.credit,
    rac: racAt({ provider: p.key_id, totalCredit: p.credit, rac: p.rac, racTime: racTime === 0 && p.rac === 0 ? null : racTime, valid, invalid }, now),
    valid,
    invalid,
    reputation: reputation({ valid, invalid }),
    banned: p.banned_by !== null,
    bannedBy: p.banned_by,
    // the migration's CHECK keeps kind and engine both set or both NULL
    client: p.client_kind === null || p.client_engine === null ? null : { kind: p.client_kind, engine: p.client_engine },
  };
}

export class Standings {
  constructor(private readonly ctx: TrackerContext) {}

  async providerStatus(keyId: string): Promise<ProviderStatus> {
    return statusOf(await providerRow(this.ctx.db, keyId), this.ctx.now());
  }

  /**
   * Providers by credit (then key), and team totals; GET /api/leaderboard.
   * Only identities with verified work (valid_count > 0) are listed or
   * counted in a team (issue 25): registering is cheap, so a row with no
   * valid result says nothing, and a flood of fresh names must not fill
   * the board. Their own status (providerStatus) stays readable.
   */
  async leaderboard(limit = 100): Promise<{ providers: ProviderStatus[]; teams: TeamStanding[] }> {
    const now = this.ctx.now();
    const rows = await this.ctx.db.query<StatusRow & Record<string, unknown>>(
      `SELECT ${STATUS_COLUMNS} FROM providers WHERE valid_count > 0 ORDER BY credit DESC, key_id LIMIT $1`,
      [limit],
    );
    const providers = rows.map((r) => statusOf(r, now));
    const teamRows = await this.ctx.db.query<StatusRow & Record<string, unknown>>(`SELECT ${STATUS_COLUMNS} FROM providers WHERE team IS NOT NULL AND valid_count > 0`);
    const teams = new Map<string, TeamStanding>();
    for (const r of teamRows) {
      const s = statusOf(r, now);
      const t = teams.get(r.team!) ?? { team: r.team!, members: 0, credit: 0, rac: 0 };
      t.members++;
      t.credit += s.credit;
      t.rac += s.rac;
      teams.set(r.team!, t);
    }
    return { providers, teams: [...teams.values()].sort((a, b) => b.credit - a.credit || (a.team < b.team ? -1 : 1)) };
  }
}
