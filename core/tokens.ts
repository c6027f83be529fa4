/**
 * Stored-token authentication: tokens added over the admin API, each with the
 * plugins it may attach to. Held in memory, as the reference does.
 *
 * @module
 */

/** The token table. */
export class TokenStore {
  #tokens = new Map<string, Set<string>>();

  get size(): number {
    return this.#tokens.size;
  }

  has(token: string): boolean {
    return this.#tokens.has(token);
  }

  /** Adds (or re-adds) a token with its plugins. */
  add(token: string, plugins: Iterable<string>): string[] {
    const set = this.#tokens.get(token) ?? new Set<string>();
    for (const p of plugins) set.add(p);
    this.#tokens.set(token, set);
    return [...set];
  }

  /** Adds plugins to a token; undefined when the token is unknown. */
  allow(token: string, plugins: Iterable<string>): string[] | undefined {
    const set = this.#tokens.get(token);
    if (!set) return undefined;
    for (const p of plugins) set.add(p);
    return [...set];
  }

  /** Removes plugins from a token; undefined when the token is unknown. */
  disallow(token: string, plugins: Iterable<string>): string[] | undefined {
    const set = this.#tokens.get(token);
    if (!set) return undefined;
    for (const p of plugins) set.delete(p);
    return [...set];
  }

  remove(token: string): boolean {
    return this.#tokens.delete(token);
  }

  canAccess(token: string, plugin: string): boolean {
    return this.#tokens.get(token)?.has(plugin) ?? false;
  }

  list(): { token: string; allowed_plugins: string[] }[] {
    return [...this.#tokens].map(([token, set]) => ({ token, allowed_plugins: [...set] }));
  }
}
