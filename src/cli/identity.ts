/**
 * The participant's Ed25519 identity on disk (DESIGN.md, "Identity and
 * security": made on first run under ~/.swarm, mode 0600). This is the only
 * protocol-related file that does I/O; everything else receives the key pair.
 *
 * File: <home>/identity.key, the private key as PKCS#8 PEM (RFC 8410 §7,
 * RFC 7468), the format `openssl pkey` reads, so an operator can inspect or
 * back it up with standard tools. Ed25519 as in RFC 8032.
 *
 * Safety rules, in the spirit of OpenSSH's StrictModes:
 *  - the home directory is created 0700; an existing one must be a directory
 *    owned by us and not writable by group or others (else someone could
 *    swap the key file);
 *  - the key file must be a regular file (opened with O_NOFOLLOW: a symlink
 *    is refused), owned by us, with no group/other permission bits at all;
 *  - the content must be one Ed25519 PKCS#8 PEM key, at most 4 KiB.
 * Permission checks are skipped on Windows, where POSIX modes mean nothing.
 *
 * Creation is atomic and race-free: the key is written and fsynced into a
 * uniquely named temporary file (O_CREAT|O_EXCL, mode 0600), then hard-linked
 * to the final name. link(2) fails with EEXIST instead of replacing, so of
 * two processes creating at once exactly one wins and the other loads the
 * winner's key; and nobody ever sees a half-written key file (which a plain
 * O_EXCL create of the final name followed by a write would expose).
 *
 * Errors: IDENTITY_INSECURE_PERMISSIONS, IDENTITY_NOT_A_FILE, IDENTITY_CORRUPT,
 * IDENTITY_IO (any other file-system failure, with the errno code).
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SwarmError } from '../core/errors.ts';
import { ED25519_SEED_BYTES, keyPairFromPrivateKey, keyPairFromSeed, type Ed25519KeyPair } from '../ledger/keys.ts';

export const IDENTITY_FILE = 'identity.key';
export const MAX_IDENTITY_FILE_BYTES = 4096;
const KEY_FILE_MODE = 0o600;
const HOME_DIR_MODE = 0o700;

export interface Identity {
  keyPair: Ed25519KeyPair;
  /** Absolute path of the key file. */
  path: string;
  /** True when this call made the key (first run), false when it loaded one. */
  created: boolean;
}

export interface IdentityOptions {
  /** 32 random bytes for a new key; crypto.randomBytes by default (tests inject fixed seeds). */
  randomSeed?: () => Uint8Array;
}

/** $SWARM_HOME when set and non-empty, else ~/.swarm. */
export function swarmHome(env: Readonly<Record<string, string | undefined>> = process.env, home: string = homedir()): string {
  const v = env.SWARM_HOME;
  return v !== undefined && v !== '' ? v : join(home, '.swarm');
}

const POSIX = process.platform !== 'win32';

function ioError(what: string, path: string, cause: unknown): SwarmError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new SwarmError('IDENTITY_IO', `${what} ${path}: ${code ?? String(cause)}`, { path, errno: code }, { cause });
}

function myUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

async function ensureHome(home: string): Promise<void> {
  try {
    await fs.mkdir(home, { recursive: true, mode: HOME_DIR_MODE });
  } catch (cause) {
    throw ioError('cannot create', home, cause);
  }
  let st;
  try {
    st = await fs.stat(home);
  } catch (cause) {
    throw ioError('cannot stat', home, cause);
  }
  if (!st.isDirectory()) throw new SwarmError('IDENTITY_NOT_A_FILE', `${home} is not a directory`, { path: home });
  if (!POSIX) return;
  const uid = myUid();
  if (uid !== undefined && st.uid !== uid) {
    throw new SwarmError('IDENTITY_INSECURE_PERMISSIONS', `${home} is owned by another user`, { path: home, uid: st.uid });
  }
  if ((st.mode & 0o022) !== 0) {
    throw new SwarmError(
      'IDENTITY_INSECURE_PERMISSIONS',
      `${home} is writable by group or others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 700 ${home}`,
      { path: home, mode: st.mode & 0o777 },
    );
  }
}

function parseKeyFile(text: string, path: string): Ed25519KeyPair {
  const corrupt = (why: string, cause?: unknown) =>
    new SwarmError('IDENTITY_CORRUPT', `${path}: ${why}`, { path }, cause === undefined ? undefined : { cause });
  const pem = text.trim();
  if (!/^-----BEGIN PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PRIVATE KEY-----$/.test(pem)) {
    throw corrupt('not a PKCS#8 PEM private key');
  }
  let key;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw corrupt('the private key does not decode', cause);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw corrupt(`expected an Ed25519 key, found ${String(key.asymmetricKeyType)}`);
  return keyPairFromPrivateKey(key);
}

/** Loads the key file; undefined when it does not exist. */
async function loadKey(path: string): Promise<Ed25519KeyPair | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, constants.O_RDONLY | (POSIX ? constants.O_NOFOLLOW : 0));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new SwarmError('IDENTITY_NOT_A_FILE', `${path} is a symbolic link; refusing it`, { path });
    throw ioError('cannot open', path, cause);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new SwarmError('IDENTITY_NOT_A_FILE', `${path} is not a regular file`, { path });
    if (POSIX) {
      const uid = myUid();
      if (uid !== undefined && st.uid !== uid) {
        throw new SwarmError('IDENTITY_INSECURE_PERMISSIONS', `${path} is owned by another user`, { path, uid: st.uid });
      }
      if ((st.mode & 0o077) !== 0) {
        throw new SwarmError(
          'IDENTITY_INSECURE_PERMISSIONS',
          `${path} is readable or writable by others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
          { path, mode: st.mode & 0o777 },
        );
      }
    }
    if (st.size > MAX_IDENTITY_FILE_BYTES) {
      throw new SwarmError('IDENTITY_CORRUPT', `${path} is larger than ${MAX_IDENTITY_FILE_BYTES} bytes`, { path, size: st.size });
    }
    let text: string;
    try {
      const buf = Buffer.alloc(MAX_IDENTITY_FILE_BYTES + 1);
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, bytesRead));
    } catch (cause) {
      if (cause instanceof TypeError) throw new SwarmError('IDENTITY_CORRUPT', `${path} is not UTF-8 text`, { path });
      throw ioError('cannot read', path, cause);
    }
    return parseKeyFile(text, path);
  } finally {
    await handle.close();
  }
}

/** Writes a new key; resolves false when another process made one first (then load theirs). */
async function createKey(home: string, path: string, seed: Uint8Array): Promise<boolean> {
  const keyPair = keyPairFromSeed(seed);
  const pem = keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const tmp = join(home, `.${IDENTITY_FILE}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, KEY_FILE_MODE);
    try {
      await handle.chmod(KEY_FILE_MODE); // the umask may have cleared bits, never added; be explicit anyway
      await handle.writeFile(pem, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.link(tmp, path);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw cause;
    }
    // Make the new directory entry durable too (best effort: not every platform can fsync a directory).
    try {
      const dir = await fs.open(home, constants.O_RDONLY);
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      /* ignore */
    }
    return true;
  } catch (cause) {
    throw ioError('cannot create key file', path, cause);
  } finally {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
}

/**
 * The identity under `home` (the CLI passes swarmHome()): loaded when the key
 * file exists and passes the checks, created on first use otherwise.
 */
export async function loadOrCreateIdentity(home: string, options: IdentityOptions = {}): Promise<Identity> {
  await ensureHome(home);
  const path = join(home, IDENTITY_FILE);
  const existing = await loadKey(path);
  if (existing !== undefined) return { keyPair: existing, path, created: false };
  const seed = options.randomSeed ? options.randomSeed() : new Uint8Array(randomBytes(ED25519_SEED_BYTES));
  if (await createKey(home, path, seed)) return { keyPair: keyPairFromSeed(seed), path, created: true };
  const winner = await loadKey(path);
  if (winner === undefined) throw new SwarmError('IDENTITY_IO', `${path} vanished while it was being created`, { path });
  return { keyPair: winner, path, created: false };
}
