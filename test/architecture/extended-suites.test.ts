/**
 * The extended suites (PostgreSQL, bubblewrap, the PyTorch reference, the
 * native engine's compiler, Chromium for the dashboard's browser tests)
 * skip locally when their
 * Debian package is missing, but CI must run them: .ci/run provisions both
 * and sets SWARM_REQUIRE_EXTENDED=1, and then a missing one is a failure,
 * not a silent skip.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { torchPython } from '../../src/cli/torch-reference.ts';
import { bwrapUsable } from '../../src/provider/sandbox/bwrap-sandbox.ts';
import { nativeStatus } from '../../src/tensor/native/backend.ts';
import { CHROMIUM } from '../web/chromium.ts';

describe.runIf(process.env.SWARM_REQUIRE_EXTENDED === '1')('extended suites are provisioned (CI)', () => {
  it('PostgreSQL is reachable through SWARM_TEST_PG_URL', () => {
    expect(process.env.SWARM_TEST_PG_URL, 'SWARM_TEST_PG_URL').toMatch(/^postgres(ql)?:\/\//);
  });
  it('bubblewrap can create its namespaces', async () => {
    expect(await bwrapUsable()).toEqual({ ok: true });
  });
  it('a python3 with torch exists for the PyTorch reference (python3-torch)', () => {
    expect(torchPython()).not.toBeNull();
  });
  it('the native engine was built by npm ci (gcc) and passed its self-test', () => {
    expect(nativeStatus()).toMatchObject({ available: true });
  });
  it('Chromium exists for the dashboard tests in test/web (chromium)', () => {
    expect(existsSync(CHROMIUM), CHROMIUM).toBe(true);
  });
});
