/**
 * Leveled logging with a module prefix. Levels follow Janus (0 none .. 7 huge).
 *
 * @module
 */

let currentLevel = 4;

/** Sets the global level (0..7). */
export function setLogLevel(level: number): void {
  currentLevel = level;
}

/** The global level. */
export function logLevel(): number {
  return currentLevel;
}

/** A logger bound to one module. */
export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  verbose(message: string): void;
  debug(message: string): void;
}

function write(level: number, tag: string, prefix: string, message: string): void {
  if (level > currentLevel) return;
  const line = `${new Date().toISOString()} ${tag} [${prefix}] ${message}`;
  // deno-lint-ignore no-console
  console.error(line);
}

/** Creates a logger whose lines start with `[prefix]`. */
export function createLogger(prefix: string): Logger {
  return {
    error: (m) => write(2, "ERR", prefix, m),
    warn: (m) => write(3, "WARN", prefix, m),
    info: (m) => write(4, "INFO", prefix, m),
    verbose: (m) => write(5, "VERB", prefix, m),
    debug: (m) => write(7, "DBG", prefix, m),
  };
}
