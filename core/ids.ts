/** Random positive ids below 2^53, safe as JavaScript numbers (like the reference). */
export function randomId(): number {
  const words = crypto.getRandomValues(new Uint32Array(2));
  const high = (words[0] ?? 0) & 0x1fffff;
  const id = high * 0x100000000 + (words[1] ?? 0);
  return id === 0 ? 1 : id;
}

/** A random token of `length` alphanumeric characters. */
export function randomString(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}
