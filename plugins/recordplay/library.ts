/**
 * The recordings folder as the reference's Record&Play keeps it: one INI `.nfo` file per
 * recording (`[id]`, `name`, `date`, `audio`, `video`, optional `data`: file names in the folder)
 * next to its `.mjr` files. `update` rescans it (new `.nfo` files are added, recordings whose
 * file went away are dropped); a recording in progress is known but not listed until `stop`
 * writes its `.nfo`.
 *
 * @module
 */
import { join } from "node:path";
import { createLogger } from "../../core/log.ts";
import type { JsonObject } from "../../core/plugin.ts";
import { readMjrHeader } from "./mjr_info.ts";

const log = createLogger("recordplay");

/** One recording. */
export interface Recording {
  id: number;
  name: string;
  date: string;
  /** Base names in the folder, without `.mjr`. */
  audio?: string;
  video?: string;
  data?: string;
  audioCodec?: string;
  videoCodec?: string;
  /** Its `.nfo` exists: listed and playable. */
  completed: boolean;
}

/** `key = value` items of the first `[section]` of an INI text (Janus's config parser, reduced). */
export function parseNfo(
  text: string,
): { section: string; items: Map<string, string> } | undefined {
  let section: string | undefined;
  const items = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      if (section !== undefined) break;
      section = header[1]!.trim();
      continue;
    }
    const eq = line.indexOf("=");
    if (section === undefined || eq < 0) continue;
    items.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return section === undefined ? undefined : { section, items };
}

/** The `.nfo` text of a recording, as the reference writes it (CRLF lines). */
export function nfoText(rec: Recording): string {
  let text = `[${rec.id}]\r\nname = ${rec.name}\r\ndate = ${rec.date}\r\n`;
  if (rec.audio !== undefined) text += `audio = ${rec.audio}.mjr\r\n`;
  if (rec.video !== undefined) text += `video = ${rec.video}.mjr\r\n`;
  if (rec.data !== undefined) text += `data = ${rec.data}.mjr\r\n`;
  return text;
}

/** `YYYY-MM-DD HH:MM:SS` in local time, as the reference's `strftime`. */
export function localDate(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())} ` +
    `${p(now.getHours())}:${p(now.getMinutes())}:${p(now.getSeconds())}`;
}

function baseName(file: string): string {
  const at = file.indexOf(".mjr");
  return at >= 0 ? file.slice(0, at) : file;
}

/** Every recording of the folder, by id. */
export class Library {
  readonly path: string;
  readonly recordings = new Map<number, Recording>();

  constructor(path: string) {
    this.path = path;
  }

  /** The `.mjr` path of a base name. */
  file(base: string): string {
    return join(this.path, `${base}.mjr`);
  }

  /** Rescans the folder (the reference's `janus_recordplay_update_recordings_list`). */
  async update(): Promise<void> {
    const seen = new Set<number>();
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(this.path));
    } catch (e) {
      log.error(`cannot read the recordings folder: ${(e as Error).message}`);
      return;
    }
    for (const entry of entries) {
      if (!entry.isFile || !entry.name.toLowerCase().endsWith(".nfo")) continue;
      const rec = await this.#read(entry.name);
      if (!rec) continue;
      seen.add(rec.id);
      if (!this.recordings.has(rec.id)) this.recordings.set(rec.id, rec);
    }
    for (const [id, rec] of this.recordings) {
      if (rec.completed && !seen.has(id)) this.recordings.delete(id);
    }
  }

  async #read(name: string): Promise<Recording | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(join(this.path, name));
    } catch {
      return undefined;
    }
    const nfo = parseNfo(text);
    const id = nfo ? Number(nfo.section) : 0;
    if (!nfo || !Number.isSafeInteger(id) || id <= 0) {
      log.warn(`invalid recording info in ${name}, skipped`);
      return undefined;
    }
    const existing = this.recordings.get(id);
    if (existing) return existing;
    const item = (key: string) => {
      const v = nfo.items.get(key);
      return v === undefined || v === "" ? undefined : v;
    };
    const name_ = item("name");
    const date = item("date");
    const audio = item("audio");
    const video = item("video");
    const data = item("data");
    if (!name_ || !date || (!audio && !video)) {
      log.warn(`incomplete recording info in ${name}, skipped`);
      return undefined;
    }
    const rec: Recording = { id, name: name_, date, completed: true };
    if (audio) {
      rec.audio = baseName(audio);
      const header = await readMjrHeader(this.file(rec.audio));
      if (header?.kind === "audio") rec.audioCodec = header.codec;
    }
    if (video) {
      rec.video = baseName(video);
      const header = await readMjrHeader(this.file(rec.video));
      if (header?.kind === "video") rec.videoCodec = header.codec;
    }
    if (data) rec.data = baseName(data);
    return rec;
  }

  /** Writes the `.nfo` of a finished recording and lists it. */
  async complete(rec: Recording): Promise<void> {
    try {
      await Deno.writeTextFile(join(this.path, `${rec.id}.nfo`), nfoText(rec));
      rec.completed = true;
    } catch (e) {
      log.error(`cannot write the info of recording ${rec.id}: ${(e as Error).message}`);
    }
  }

  /** `list`'s entries: completed recordings. */
  list(): JsonObject[] {
    const out: JsonObject[] = [];
    for (const rec of this.recordings.values()) {
      if (!rec.completed) continue;
      const entry: JsonObject = { id: rec.id, name: rec.name, date: rec.date };
      entry.audio = rec.audio !== undefined;
      if (rec.audioCodec !== undefined) entry.audio_codec = rec.audioCodec;
      entry.video = rec.video !== undefined;
      if (rec.videoCodec !== undefined) entry.video_codec = rec.videoCodec;
      entry.data = rec.data !== undefined;
      out.push(entry);
    }
    return out;
  }
}
