/**
 * `swarm cla show|sign --tracker URL [--json]` (issue 20; CLA.md,
 * CONTRIBUTING.md): read a tracker's contributor licence agreement, and sign
 * its current version with this identity ($SWARM_HOME/identity.key). The
 * signature is a cla-signed ledger entry the identity signs itself, so the
 * log proves who agreed to which text. A tracker takes signatures from keys
 * it knows (registered providers, trainers): `sign` registers this identity
 * first when the tracker does not know it (a small proof of work).
 * `swarm provide --accept-cla` signs the same way.
 */
import { availableParallelism, hostname, totalmem } from 'node:os';
import type { Command } from 'commander';
import { systemClock } from '../core/clock.ts';
import { utf8Encode } from '../core/encoding.ts';
import { isSwarmError } from '../core/errors.ts';
import { sha256Hex } from '../core/sha256.ts';
import type { ClaView } from '../protocol/cla.ts';
import { acceptCla, trackerCla } from '../provider/cla.ts';
import { TrackerClient, normaliseTrackerUrl } from '../provider/client.ts';
import { loadOrCreateIdentity, swarmHome } from './identity.ts';

async function client(tracker: string): Promise<TrackerClient> {
  const id = await loadOrCreateIdentity(swarmHome());
  return new TrackerClient({ baseUrl: normaliseTrackerUrl(tracker), key: id.keyPair, clock: systemClock });
}

/** Whether the served text hashes to the served sha256 (undefined: no text served). */
function textMatches(v: ClaView): boolean | undefined {
  return !v.required || v.text === undefined ? undefined : sha256Hex(utf8Encode(v.text)) === v.sha256;
}

export function claLines(v: ClaView): string[] {
  if (!v.required) return ['this tracker asks for no contributor licence agreement'];
  const origin = v.decision === null ? 'the version the tracker started with' : `made current by council decision ${v.decision}`;
  const check = textMatches(v);
  return [
    `contributor licence agreement ${v.version}`,
    `  sha256 ${v.sha256}${check === undefined ? ' (the tracker does not serve its text)' : check ? ' (the text below hashes to it)' : ' (WARNING: the text below does NOT hash to it)'}`,
    `  ${origin}, ${new Date(v.publishedAt).toISOString()}`,
    ...(v.text === undefined ? [] : ['', v.text]),
  ];
}

export function registerCla(program: Command): void {
  const cla = program
    .command('cla')
    .summary('read and sign a tracker\'s contributor licence agreement (CLA) with your identity')
    .description(
      'A tracker may require its contributors to sign its contributor licence agreement (CLA.md in the repository) before their work counts. ' +
        'Signing is a ledger entry made with your identity ($SWARM_HOME/identity.key; `swarm whoami`). A new version is a council decision, and is signed again.',
    );
  const tracker = (c: Command): Command => c.requiredOption('--tracker <url>', 'the tracker, e.g. http://127.0.0.1:7070').option('--json', 'print one JSON object');

  tracker(cla.command('show').description('print the tracker\'s current CLA: version, SHA-256 and text')).action(async (o: { tracker: string; json?: boolean }) => {
    const v = await trackerCla(await client(o.tracker));
    const check = textMatches(v);
    process.stdout.write(o.json === true ? `${JSON.stringify({ ...v, ...(check === undefined ? {} : { textMatches: check }) })}\n` : `${claLines(v).join('\n')}\n`);
  });

  tracker(
    cla
      .command('sign')
      .description('sign the tracker\'s current CLA with your identity (read it first: `swarm cla show`); registers the identity first if the tracker does not know it')
      .option('--name <name>', 'the name to register under when the tracker does not know this identity', hostname().slice(0, 64) || 'contributor'),
  ).action(async (o: { tracker: string; name: string; json?: boolean }) => {
    const c = await client(o.tracker);
    const signed = await acceptCla(c, systemClock).catch(async (e: unknown) => {
      if (!isSwarmError(e, 'TRACKER_UNKNOWN_PROVIDER')) throw e;
      await c.register(o.name, { threads: Math.max(1, availableParallelism()), memoryBytes: totalmem() });
      return acceptCla(c, systemClock);
    });
    if (signed === null) {
      process.stdout.write(o.json === true ? `${JSON.stringify({ required: false })}\n` : 'this tracker asks for no contributor licence agreement\n');
      return;
    }
    const s = signed.signature;
    process.stdout.write(o.json === true
      ? `${JSON.stringify(s)}\n`
      : `signed the contributor licence agreement ${s.version} (sha256 ${s.sha256}) as ${s.keyId}${s.created ? '' : ' (signed before)'}\n`);
  });
}
