/**
 * Hands freed heap memory back to the system (glibc `malloc_trim`) a moment after peers
 * close. libwebrtc frees a closed peer's buffers in many per-thread malloc arenas and glibc
 * keeps those pages, so without a trim a media worker's RSS grew by 0.3-0.5 MiB per call
 * under churn although little of it stayed live (soak: `deno task soak`).
 *
 * @module
 */

/** Schedules trims: many requests within `delayMs` make one trim. */
export interface Trimmer {
  /** Trims once, `delayMs` from the first request not yet served. */
  soon(): void;
  /** Drops a scheduled trim. */
  cancel(): void;
}

/** glibc's `malloc_trim(0)`, or undefined where libc cannot be opened (not glibc, no FFI). */
export function libcMallocTrim(): (() => void) | undefined {
  try {
    const libc = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
    });
    return () => void libc.symbols.malloc_trim(0n);
  } catch {
    return undefined;
  }
}

/** A trimmer calling `trim` (a no-op one when it is undefined). */
export function createTrimmer(trim: (() => void) | undefined, delayMs = 1000): Trimmer {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    soon() {
      if (!trim || timer !== undefined) return;
      const scheduled = setTimeout(() => {
        timer = undefined;
        trim();
      }, delayMs);
      // Never what keeps the worker alive.
      Deno.unrefTimer(scheduled);
      timer = scheduled;
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** glibc's allocator totals over all arenas (`mallinfo2`), in bytes. */
export interface MallocStats {
  /** Taken from the system by brk/mmap'd arenas (not counting `mmapped`). */
  arena: number;
  /** Large blocks mmap'd on their own (returned to the system when freed). */
  mmapped: number;
  /** Allocated and not freed: the live native heap. */
  inUse: number;
  /** Freed but kept by the allocator: what a trim may hand back (fragmentation). */
  free: number;
  /** Free at the top of the main arena, trimmable by `brk`. */
  topFree: number;
}

/** glibc's `mallinfo2()`, or undefined where libc cannot be opened (not glibc 2.33+, no FFI). */
export function libcMallocStats(): (() => MallocStats) | undefined {
  try {
    const libc = Deno.dlopen("libc.so.6", {
      mallinfo2: { parameters: [], result: { struct: Array(10).fill("usize") } },
    });
    return () => {
      const raw = libc.symbols.mallinfo2() as Uint8Array<ArrayBuffer>;
      const f = new BigUint64Array(raw.buffer, raw.byteOffset, 10);
      const n = (i: number) => Number(f[i] ?? 0n);
      // struct mallinfo2: arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks,
      // fordblks, keepcost.
      return { arena: n(0), mmapped: n(4), inUse: n(7), free: n(8), topFree: n(9) };
    };
  } catch {
    return undefined;
  }
}
