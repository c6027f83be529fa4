/**
 * A small metrics registry: counters, gauges and histograms with labels, written out in the
 * Prometheus text exposition format (version 0.0.4). Label values come from fixed sets chosen
 * by the code (request names, error codes, states), never straight from a client.
 *
 * @module
 */

/** Label name -> value. */
export type Labels = Readonly<Record<string, string>>;

/** The content type of {@link Registry.render}'s output. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return "";
  const escape = (v: string) =>
    v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
  return `{${pairs.map(([k, v]) => `${k}="${escape(v)}"`).join(",")}}`;
}

function numberText(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

/** One labelled value set of a family, keyed by its label text. */
abstract class Family {
  readonly name: string;
  readonly help: string;
  abstract readonly type: "counter" | "gauge" | "histogram";

  constructor(name: string, help: string) {
    if (!NAME.test(name)) throw new Error(`Invalid metric name '${name}'`);
    this.name = name;
    this.help = help;
  }

  abstract samples(): string[];

  render(): string {
    const help = this.help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
    return [`# HELP ${this.name} ${help}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()]
      .join("\n");
  }
}

/** A value that only goes up (it starts again from 0 when the process does). */
export class Counter extends Family {
  readonly type = "counter";
  #values = new Map<string, number>();

  /** Adds `by` (default 1) to the series of `labels`. */
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  /** Sets the series of `labels` to a total counted elsewhere (it only grows there). */
  setTotal(labels: Labels, total: number): void {
    this.#values.set(labelText(labels), total);
  }

  /** The current value of one series (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.#values.get(labelText(labels)) ?? 0;
  }

  samples(): string[] {
    if (this.#values.size === 0) return [`${this.name} 0`];
    return [...this.#values].map(([key, v]) => `${this.name}${key} ${numberText(v)}`);
  }
}

/** A value read at scrape time; `reset` forgets series that are gone (a plugin's rooms...). */
export class Gauge extends Family {
  readonly type = "gauge";
  #values = new Map<string, number>();
  #labelled: boolean;

  constructor(name: string, help: string, options: { labelled?: boolean } = {}) {
    super(name, help);
    this.#labelled = options.labelled ?? false;
  }

  set(labels: Labels, value: number): void {
    this.#values.set(labelText(labels), value);
  }

  reset(): void {
    this.#values.clear();
  }

  samples(): string[] {
    // An unlabelled gauge always has its one sample; a labelled one only the series it has.
    if (this.#values.size === 0) return this.#labelled ? [] : [`${this.name} 0`];
    return [...this.#values].map(([key, v]) => `${this.name}${key} ${numberText(v)}`);
  }
}

/** Observations counted into cumulative buckets (`le` upper bounds, in the unit of the name). */
export class Histogram extends Family {
  readonly type = "histogram";
  readonly buckets: readonly number[];
  #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(name: string, help: string, buckets: readonly number[]) {
    super(name, help);
    this.buckets = [...buckets].sort((a, b) => a - b);
  }

  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels);
    let s = this.#series.get(key);
    if (!s) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] ?? Infinity)) s.counts[i] = (s.counts[i] ?? 0) + 1;
    }
    s.sum += value;
    s.count++;
  }

  /** Observations so far in the series of `labels`. */
  count(labels: Labels = {}): number {
    return this.#series.get(labelText(labels))?.count ?? 0;
  }

  samples(): string[] {
    const series = this.#series.size > 0
      ? [...this.#series.values()]
      : [{ labels: {}, counts: this.buckets.map(() => 0), sum: 0, count: 0 }];
    const out: string[] = [];
    for (const s of series) {
      this.buckets.forEach((le, i) => {
        const labels = labelText(s.labels, ["le", numberText(le)]);
        out.push(`${this.name}_bucket${labels} ${s.counts[i] ?? 0}`);
      });
      out.push(`${this.name}_bucket${labelText(s.labels, ["le", "+Inf"])} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${numberText(s.sum)}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

/** Metric families in registration order, plus collectors that refresh gauges at scrape time. */
export class Registry {
  #families = new Map<string, Family>();
  #collectors: (() => void | Promise<void>)[] = [];

  #add<F extends Family>(family: F): F {
    if (this.#families.has(family.name)) throw new Error(`Metric ${family.name} exists`);
    this.#families.set(family.name, family);
    return family;
  }

  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }

  gauge(name: string, help: string, options: { labelled?: boolean } = {}): Gauge {
    return this.#add(new Gauge(name, help, options));
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, buckets));
  }

  /** A gauge made on first use (plugin gauges, named at run time). */
  dynamicGauge(name: string, help: string): Gauge {
    const existing = this.#families.get(name);
    if (existing instanceof Gauge) return existing;
    return this.gauge(name, help, { labelled: true });
  }

  /** Runs before every render. */
  onCollect(collector: () => void | Promise<void>): void {
    this.#collectors.push(collector);
  }

  /** Every family in the text exposition format, after the collectors ran. */
  async render(): Promise<string> {
    for (const collect of this.#collectors) await collect();
    return [...this.#families.values()].map((f) => f.render()).join("\n") + "\n";
  }
}

/** A metric name made from a free-form key: invalid characters become `_`. */
export function metricName(key: string): string {
  const name = key.replace(/[^a-zA-Z0-9_:]/g, "_");
  return NAME.test(name) ? name : `_${name}`;
}
