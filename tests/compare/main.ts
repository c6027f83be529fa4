/**
 * `deno task compare`: plays the VideoRoom scenarios (`scenarios.ts`) on this gateway and on
 * a private reference Janus side by side, inside a private network namespace, and prints
 * every step whose replies or events differ. Differences kept on purpose are listed with
 * their reason; any other one makes the exit code 1. Needs Janus installed (Debian `janus`)
 * and `../shared/ref-janus/start.sh`, as the bench does. `COMPARE_OUT=DIR` keeps both
 * recordings of every scenario there; `COMPARE_ONLY=TEXT[,TEXT...]` plays only the scenarios
 * whose name contains one of them.
 *
 * @module
 */
import { loadWrtc } from "../../core/media/wrtc.ts";
import { startFreshReference, stopStartedReference } from "../../bench/reference.ts";
import { insideNetns, runInNetns } from "../_helpers/netns.ts";
import { gateway } from "../plugins/_videoroom_media.ts";
import { Recorder } from "./recorder.ts";
import { KNOWN_DIFFERENCES, type Scenario, SCENARIOS } from "./scenarios.ts";

function print(line: string): void {
  // deno-lint-ignore no-console
  console.log(line);
}

/** A recording cut into steps: a request with its reply, or a settle with its events. */
function steps(lines: readonly string[]): string[][] {
  const out: string[][] = [];
  for (const line of lines) {
    if (line.startsWith("> ") || line.startsWith("## ")) out.push([line]);
    else out[out.length - 1]?.push(line);
  }
  return out;
}

/** Prints the differing steps of one scenario; returns how many are not known ones. */
function report(scenario: Scenario, ours: readonly string[], theirs: readonly string[]): number {
  const a = steps(ours);
  const b = steps(theirs);
  let unknown = 0;
  let known = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? [];
    const y = b[i] ?? [];
    if (x.join("\n") === y.join("\n")) continue;
    if (x[0] !== y[0]) {
      print(`  step ${i}: the runs went apart (ours "${x[0]}", reference "${y[0]}")`);
      return unknown + 1;
    }
    // A step is a known difference when every differing line is explained by one.
    const differing = [...x.filter((l) => !y.includes(l)), ...y.filter((l) => !x.includes(l))];
    const explain = (line: string) =>
      KNOWN_DIFFERENCES.find((k) =>
        (k.scenario === "" || k.scenario === scenario.name) && line.includes(k.match)
      );
    const reasons = differing.map(explain);
    if (differing.length > 0 && reasons.every((k) => k !== undefined)) {
      known++;
      print(`  known: ${x[0]} (${[...new Set(reasons.map((k) => k?.why))].join("; ")})`);
      continue;
    }
    unknown++;
    print(`  DIFFERS: ${x[0]}`);
    for (const l of x.slice(1).filter((l) => !y.includes(l))) print(`    ours ${l.slice(0, 400)}`);
    for (const l of y.slice(1).filter((l) => !x.includes(l))) print(`    ref  ${l.slice(0, 400)}`);
  }
  print(
    `${unknown === 0 ? "same" : "DIFFERENT"}: ${scenario.name} (${a.length} steps, ` +
      `${known} known differences, ${unknown} other)`,
  );
  return unknown;
}

async function main(): Promise<number> {
  const wrtc = await loadWrtc();
  const ref = await startFreshReference();
  if ("unreachable" in ref) {
    print(`compare: no reference Janus (${ref.unreachable}); install it: apt-get install -y janus`);
    return 2;
  }
  await using ours = await gateway();
  const refUrl = `http://${ref.endpoint.host}:${ref.endpoint.httpPort}${ref.endpoint.basePath}`;
  print(
    `compare: this gateway against Janus ${ref.version} (private, port ${ref.endpoint.httpPort})`,
  );
  let unknown = 0;
  try {
    // COMPARE_ONLY=text[,text...] plays only the scenarios whose name contains one of them.
    const only = (Deno.env.get("COMPARE_ONLY") ?? "").split(",");
    for (const scenario of SCENARIOS.filter((s) => only.some((o) => s.name.includes(o)))) {
      const recordings: string[][] = [];
      const refAdmin = `http://${ref.endpoint.host}:${ref.adminHttpPort}/admin`;
      for (const [url, admin] of [[ours.httpUrl, ours.adminUrl], [refUrl, refAdmin]]) {
        await using r = await Recorder.open(url!, wrtc, admin);
        await scenario.run(r);
        recordings.push(r.lines);
      }
      // COMPARE_OUT=dir keeps both recordings, for a closer look.
      const dir = Deno.env.get("COMPARE_OUT");
      if (dir) {
        await Deno.mkdir(dir, { recursive: true });
        const base = `${dir}/${scenario.name.replace(/\W+/g, "_")}`;
        await Deno.writeTextFile(`${base}.ours.txt`, (recordings[0] ?? []).join("\n") + "\n");
        await Deno.writeTextFile(`${base}.ref.txt`, (recordings[1] ?? []).join("\n") + "\n");
      }
      unknown += report(scenario, recordings[0] ?? [], recordings[1] ?? []);
    }
  } finally {
    await stopStartedReference(ref);
  }
  print(unknown === 0 ? "compare: no unexplained difference" : `compare: ${unknown} differences`);
  return unknown === 0 ? 0 : 1;
}

if (import.meta.main) {
  if (!insideNetns()) {
    Deno.exit(
      await runInNetns([Deno.execPath(), "run", "--allow-all", import.meta.filename ?? ""]),
    );
  }
  // wrtc needs an explicit exit (design.md).
  Deno.exit(await main());
}
