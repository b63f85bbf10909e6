/**
 * The browser provider's IndexedDB database (issue 18): its identity seed
 * and its blob cache, shared by the page and every provider worker of this
 * origin. Small promise wrappers over the callback API; one database, one
 * version, three object stores.
 */
export const DB_NAME = 'swarm-provider';
const DB_VERSION = 1;
export const STORE_IDENTITY = 'identity';
export const STORE_BLOBS = 'blobs';
export const STORE_BLOB_META = 'blob-meta';

export function openProviderDb(factory: IDBFactory = indexedDB): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = factory.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      for (const s of [STORE_IDENTITY, STORE_BLOBS, STORE_BLOB_META]) if (!db.objectStoreNames.contains(s)) db.createObjectStore(s);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB open failed'));
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab holding an older version open'));
  });
}

/** The result of one request, as a promise. */
export function done<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** Resolves when a transaction commits. */
export function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}
