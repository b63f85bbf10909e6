/**
 * The contributor licence agreement's routes (issue 20; tracker/cla.ts):
 *   GET  /api/cla                          the current version: id, sha256, text when the tracker has it
 *   POST /api/cla/signatures    signed     the signer's own cla-signed entry (protocol/cla.ts)
 * A signature is a signed request like the other provider routes: the key
 * must be a registered provider or a trainer (checked before the body is
 * read), so an unknown key cannot fill the log with signatures; a provider
 * registers first (which costs its proof of work), then signs.
 */
import type { Context, Hono } from 'hono';
import type { VerifiedRequest } from '../../protocol/signing.ts';
import { ClaSignRequestSchema } from '../../protocol/cla.ts';
import { parseWire } from '../../protocol/schemas.ts';
import type { Cla } from '../cla.ts';

export interface ClaRoutesOptions {
  cla: Cla;
  /** the app's signed JSON route for registered providers and trainers (app.ts signedJson) */
  signedJson: (c: Context) => Promise<{ who: VerifiedRequest; json: unknown }>;
}

export function registerClaRoutes(app: Hono, o: ClaRoutesOptions): void {
  app.get('/api/cla', async (c) => c.json(await o.cla.view()));
  app.post('/api/cla/signatures', async (c) => {
    const { who, json } = await o.signedJson(c);
    return c.json(await o.cla.sign(who, parseWire(ClaSignRequestSchema, json).entry));
  });
}
