/**
 * The provider's side of the contributor licence agreement (issue 20;
 * CLA.md): read the tracker's current version, and sign it with this
 * identity (a cla-signed ledger entry the identity signs itself,
 * protocol/cla.ts). `swarm provide --accept-cla` and `swarm cla sign` call
 * acceptCla; without a signature the tracker refuses work with
 * TRACKER_CLA_REQUIRED and the loop stops (loop.ts).
 */
import type { Clock } from '../core/clock.ts';
import { utf8Encode } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import { sha256Hex } from '../core/sha256.ts';
import { claSignedEntry } from '../protocol/cla.ts';
import type { ClaSignature, ClaView } from '../protocol/cla.ts';
import type { TrackerClient } from './client.ts';

/** GET /api/cla. */
export async function trackerCla(c: TrackerClient): Promise<ClaView> {
  return c.getJson<ClaView>('/api/cla');
}

/**
 * Signs the tracker's current CLA with the client's key (the key must be
 * registered, or a trainer's); null when the tracker requires none. When the
 * tracker serves the text, its hash is checked first: one signs the text
 * one could read.
 */
export async function acceptCla(c: TrackerClient, clock: Clock): Promise<{ view: ClaView & { required: true }; signature: ClaSignature } | null> {
  const view = await trackerCla(c);
  if (!view.required) return null;
  if (view.text !== undefined && sha256Hex(utf8Encode(view.text)) !== view.sha256) {
    throw new SwarmError('CLA_TEXT_MISMATCH', `the tracker serves a CLA ${view.version} text whose SHA-256 is not the ${view.sha256} it names; not signing it`);
  }
  const signature = await c.json<ClaSignature>('POST', '/api/cla/signatures', { entry: claSignedEntry(c.key, clock.now(), view) });
  return { view, signature };
}
