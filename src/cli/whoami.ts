/**
 * `swarm whoami [--json]` (issue 24): this machine's identity
 * ($SWARM_HOME/identity.key, made on first use like every other command):
 * its key id, which a tracker operator names with `swarm tracker --trainer
 * KEYID`, and its Ed25519 public key as it travels on the wire (base64url of
 * the 32 raw bytes, RFC 8032 §5.1.5; the same field `POST /api/providers`
 * carries). JSON fields: keyId, publicKey, path.
 */
import type { Command } from 'commander';
import { base64UrlEncode } from '../core/encoding.ts';
import { loadOrCreateIdentity, swarmHome } from './identity.ts';

export interface WhoAmI {
  keyId: string;
  publicKey: string;
  path: string;
}

export async function whoami(home: string = swarmHome()): Promise<WhoAmI> {
  const id = await loadOrCreateIdentity(home);
  return { keyId: id.keyPair.keyId, publicKey: base64UrlEncode(id.keyPair.publicKeyRaw), path: id.path };
}

export function registerWhoami(program: Command): void {
  program
    .command('whoami')
    .description('print this identity\'s key id (what `swarm tracker --trainer KEYID` names) and public key')
    .option('--json', 'one JSON object: keyId, publicKey, path')
    .action(async (o: { json?: boolean }) => {
      const me = await whoami();
      process.stdout.write(o.json ? `${JSON.stringify(me)}\n` : `key id      ${me.keyId}\npublic key  ${me.publicKey}\nkey file    ${me.path}\n`);
    });
}
