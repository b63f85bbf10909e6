/**
 * The extended suites (PostgreSQL, bubblewrap) skip locally when their
 * Debian package is missing, but CI must run them: .ci/run provisions both
 * and sets SWARM_REQUIRE_EXTENDED=1, and then a missing one is a failure,
 * not a silent skip.
 */
import { describe, expect, it } from 'vitest';
import { bwrapUsable } from '../../src/provider/sandbox/bwrap-sandbox.ts';

describe.runIf(process.env.SWARM_REQUIRE_EXTENDED === '1')('extended suites are provisioned (CI)', () => {
  it('PostgreSQL is reachable through SWARM_TEST_PG_URL', () => {
    expect(process.env.SWARM_TEST_PG_URL, 'SWARM_TEST_PG_URL').toMatch(/^postgres(ql)?:\/\//);
  });
  it('bubblewrap can create its namespaces', async () => {
    expect(await bwrapUsable()).toEqual({ ok: true });
  });
});
