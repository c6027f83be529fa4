const POOL = new Uint32Array(512);
let poolAt = POOL.length;

/** Random positive ids below 2^53, safe as JavaScript numbers (like the reference). */
export function randomId(): number {
  // One getRandomValues call serves 256 ids: ids are made on every create and attach.
  if (poolAt >= POOL.length) {
    crypto.getRandomValues(POOL);
    poolAt = 0;
  }
  const high = (POOL[poolAt++] ?? 0) & 0x1fffff;
  const id = high * 0x100000000 + (POOL[poolAt++] ?? 0);
  return id === 0 ? 1 : id;
}

/** A random token of `length` alphanumeric characters. */
export function randomString(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}
