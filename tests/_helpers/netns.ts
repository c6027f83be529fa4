/**
 * Runs commands inside a private network namespace, so that tests carrying media only ever
 * see loopback-range addresses (design.md, "Networking in tests").
 *
 * The namespace has `lo` up plus a veth pair with `127.0.0.10/32` on `veth0` (Chromium wants a
 * non-loopback interface); IPv6 address generation is off on the veth ends so that no
 * link-local `fe80::` address shows up as a candidate. The wrapper exports `GATEWAY_NETNS=1`.
 *
 * As a script: `deno run -A tests/_helpers/netns.ts deno test -A tests/media/` runs the given
 * command inside a fresh namespace and exits with its code.
 *
 * @module
 */

/** Environment variable the wrapper sets inside the namespace. */
export const NETNS_ENV = "GATEWAY_NETNS";

/** The message a media test fails with when it runs outside the namespace. */
export const NETNS_HINT =
  "media tests must run inside a private network namespace: run them through `deno task test`, " +
  "which wraps media tests in a network namespace, or through " +
  "`deno run -A tests/_helpers/netns.ts deno test -A tests/media/`";

const SETUP = [
  "set -e",
  "ip link set lo up",
  "ip link add veth0 type veth peer name veth1",
  "ip link set veth0 addrgenmode none",
  "ip link set veth1 addrgenmode none",
  "ip addr add 127.0.0.10/32 dev veth0",
  "ip link set veth0 up",
  "ip link set veth1 up",
  `export ${NETNS_ENV}=1`,
  'exec "$@"',
].join("; ");

/**
 * Wraps `argv` so that it runs inside a new network namespace.
 *
 * @param argv the command and its arguments
 * @returns the argv to spawn instead (`unshare -n sh -c SETUP sh ...argv`; `-rn` when not root)
 */
export function netnsArgv(argv: readonly string[]): string[] {
  if (argv.length === 0) throw new TypeError("netnsArgv needs a command");
  const unshare = Deno.uid() === 0 ? ["unshare", "-n"] : ["unshare", "-rn"];
  return [...unshare, "sh", "-c", SETUP, "sh", ...argv];
}

/** Whether an IP address is in the loopback range (127.0.0.0/8 or ::1). */
export function isLoopbackAddress(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}

/**
 * Whether this process runs inside the namespace made by {@link netnsArgv}: the marker is set
 * and every interface address is a loopback-range one.
 */
export function insideNetns(): boolean {
  if (Deno.env.get(NETNS_ENV) !== "1") return false;
  return Deno.networkInterfaces().every((i) => isLoopbackAddress(i.address));
}

/**
 * Throws a clear error when not inside the namespace.
 *
 * @throws {Error} with {@link NETNS_HINT}
 */
export function assertInsideNetns(): void {
  if (!insideNetns()) throw new Error(NETNS_HINT);
}

/**
 * Runs `argv` inside a new namespace with inherited stdio and returns its exit code.
 *
 * @param argv the command and its arguments
 */
export async function runInNetns(argv: readonly string[]): Promise<number> {
  const [command, ...args] = netnsArgv(argv);
  if (command === undefined) throw new TypeError("netnsArgv returned nothing");
  const status = await new Deno.Command(command, {
    args,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  return status.code;
}

if (import.meta.main) {
  Deno.exit(await runInNetns(Deno.args));
}
