// The admin page: every view is asked of the admin API (and GET /metrics) with the secret typed
// into the form; the secret lives only in this module's memory, and signing out forgets it and
// clears every view. Data is written with textContent only: room descriptions and handle_info
// come from clients.

const REFRESH_MS = 2000;
/** Sessions listed at once (list_sessions may return 100,000); the filter finds the rest. */
const MAX_SESSIONS_SHOWN = 500;
/** Handles of one session whose handle_info is asked, to show their plugin. */
const MAX_HANDLE_LOOKUPS = 200;
/** Columns a room list shows when its items have them; the whole item shows on a click. */
const ROOM_COLUMNS = [
  "room",
  "id",
  "name",
  "description",
  "type",
  "enabled",
  "num_participants",
  "max_publishers",
  "sampling_rate",
  "history",
  "pin_required",
  "is_private",
  "audiocodec",
  "videocodec",
];
/** The gauges shown at a glance: one tile per labelled series, or their sum. */
const TILES = [
  { metric: "janus_sessions", label: "sessions" },
  { metric: "janus_handles", label: "handles" },
  { metric: "janus_peerconnections", label: "PeerConnections" },
  { metric: "janus_media_workers", label: "media workers" },
  { metric: "janus_media_peers", label: "media peers" },
  { metric: "janus_event_queue_events", label: "queued events" },
  { metric: "janus_requests_total", label: "requests", sum: true },
  { metric: "janus_request_errors_total", label: "request errors", sum: true },
  { metric: "process_resident_memory_bytes", label: "gateway memory", unit: "bytes" },
  { metric: "janus_media_worker_resident_memory_bytes", label: "worker memory", unit: "bytes" },
  { metric: "process_cpu_seconds_total", label: "gateway CPU", unit: "seconds" },
  { metric: "process_start_time_seconds", label: "uptime", unit: "since" },
];

const $ = (id) => document.getElementById(id);
// The page is served at <admin base>/ui/; the API is the base itself.
const apiBase = location.pathname.replace(/\/ui\/[^/]*$/, "") || "/";

const state = {
  secret: undefined,
  token: "",
  /** Bumped on sign-out: answers of an older generation are dropped. */
  generation: 0,
  inFlight: -1,
  timer: undefined,
  sessions: [],
  session: undefined,
  handle: undefined,
  room: undefined,
};

class AdminError extends Error {
  constructor(code, reason) {
    super(`Error ${code}: ${reason}`);
    this.code = code;
  }
}

function transaction() {
  return Math.random().toString(36).slice(2, 14);
}

/** One admin request; `path` is "" or "session[/handle]". Janus errors throw AdminError. */
async function admin(request, path = "") {
  const url = path ? `${apiBase.replace(/\/$/, "")}/${path}` : apiBase;
  const body = { ...request, transaction: transaction(), admin_secret: state.secret };
  let reply;
  try {
    const res = await fetch(url, { method: "POST", body: JSON.stringify(body), cache: "no-store" });
    reply = await res.json();
  } catch (e) {
    throw new Error(`Cannot reach the admin API at ${url}: ${e.message}`);
  }
  if (reply.janus === "error") {
    throw new AdminError(reply.error?.code ?? 0, reply.error?.reason ?? "unknown");
  }
  return reply;
}

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

function listItem(child) {
  const item = element("li");
  item.appendChild(child);
  return item;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = message === "";
}

// --- Server -------------------------------------------------------------------------------

function renderServer(info, status) {
  const rows = [
    ["server name", info["server-name"]],
    ["version", `${info.version_string} (${info.author})`],
    ["accepting new sessions", info["accepting-new-sessions"]],
    ["session timeout (s)", status.session_timeout],
    ["reclaim session timeout (s)", status.reclaim_session_timeout],
    ["token auth", status.token_auth],
    ["api secret", info.api_secret],
    ["log level", status.log_level],
    ["no media timer (s)", status.no_media_timer],
    ["slow link threshold", status.slowlink_threshold],
    ["event handlers", info.event_handlers],
    ["transports", Object.keys(info.transports ?? {}).join(", ")],
    ["plugins", Object.keys(info.plugins ?? {}).join(", ")],
    ["runtime", Object.entries(info.dependencies ?? {}).map(([k, v]) => `${k} ${v}`).join(", ")],
  ];
  $("server-info").replaceChildren(
    ...rows.flatMap(([name, value]) => [element("dt", name), element("dd", value ?? "-")]),
  );
}

// --- Sessions, handles, handle_info ---------------------------------------------------------

function renderSessions() {
  const filter = $("session-filter").value.trim();
  const matching = filter
    ? state.sessions.filter((s) => String(s).includes(filter))
    : state.sessions;
  const shown = matching.slice(0, MAX_SESSIONS_SHOWN);
  $("session-count").textContent = matching.length > shown.length
    ? `(${state.sessions.length}; first ${shown.length} of ${matching.length} shown)`
    : `(${state.sessions.length})`;
  $("session-list").replaceChildren(...shown.map((id) => {
    const button = element("button", id, { type: "button", "data-session": id });
    if (id === state.session) button.classList.add("selected");
    return listItem(button);
  }));
}

function renderHandleInfo(info) {
  if (!info) {
    $("info-title").textContent = "";
    $("handle-info").textContent = "";
    return;
  }
  $("info-title").textContent = `${info.session_id}/${info.handle_id} ${info.plugin ?? ""}`;
  $("handle-info").textContent = JSON.stringify(info, null, 2);
}

function clearHandles() {
  state.handle = undefined;
  $("handle-title").textContent = "";
  $("handle-list").replaceChildren();
  renderHandleInfo(undefined);
}

async function refreshSessions(gen) {
  const { sessions } = await admin({ janus: "list_sessions" });
  if (gen !== state.generation) return;
  state.sessions = sessions;
  if (state.session !== undefined && !sessions.includes(state.session)) {
    state.session = undefined;
  }
  renderSessions();
  await refreshHandles(gen);
}

async function refreshHandles(gen) {
  const session = state.session;
  if (session === undefined) return clearHandles();
  let handles;
  try {
    ({ handles } = await admin({ janus: "list_handles" }, `${session}`));
  } catch (e) {
    // The session ended between the list and this request.
    if (e instanceof AdminError && e.code === 458) {
      if (gen === state.generation && state.session === session) clearHandles();
      return;
    }
    throw e;
  }
  const wanted = handles.slice(0, MAX_HANDLE_LOOKUPS);
  if (state.handle !== undefined && !wanted.includes(state.handle)) wanted.push(state.handle);
  const infos = new Map(
    await Promise.all(
      wanted.map((h) =>
        admin({ janus: "handle_info" }, `${session}/${h}`).then((r) => [h, r.info], () => [h])
      ),
    ),
  );
  if (gen !== state.generation || state.session !== session) return;
  if (state.handle !== undefined && !handles.includes(state.handle)) state.handle = undefined;
  $("handle-title").textContent = `of ${session} (${handles.length})`;
  $("handle-list").replaceChildren(...handles.map((id) => {
    const plugin = infos.get(id)?.plugin ?? "";
    const button = element("button", `${id} ${plugin}`, { type: "button", "data-handle": id });
    if (id === state.handle) button.classList.add("selected");
    return listItem(button);
  }));
  renderHandleInfo(state.handle === undefined ? undefined : infos.get(state.handle));
}

// --- Plugin rooms ---------------------------------------------------------------------------

/** Asks every plugin of `info` for `list`; shows the ones that answer with a list. */
async function refreshRooms(info, gen) {
  const plugins = Object.keys(info.plugins ?? {});
  const answers = await Promise.all(plugins.map(async (plugin) => {
    try {
      const request = { request: "list", transaction: transaction() };
      const { response } = await admin({ janus: "message_plugin", plugin, request });
      return { plugin, response };
    } catch (e) {
      if (e instanceof AdminError && e.code === 403) throw e;
      return { plugin, problem: e.message };
    }
  }));
  if (gen !== state.generation) return;
  const lists = [];
  const silent = [];
  for (const { plugin, response, problem } of answers) {
    if (response && Array.isArray(response.list)) {
      lists.push(roomTable(plugin, info.plugins[plugin]?.name ?? plugin, response.list));
    } else {
      silent.push(`${plugin} (${problem ?? response?.error ?? "no list"})`);
    }
  }
  $("room-lists").replaceChildren(...lists);
  $("room-silent").textContent = silent.length ? `No room list from: ${silent.join(", ")}` : "";
  renderRoomDetail(answers);
}

function roomKey(item) {
  return String(item.room ?? item.id ?? item.name ?? JSON.stringify(item));
}

function roomTable(plugin, name, list) {
  const wrapper = element("div", undefined, { "data-plugin": plugin });
  wrapper.appendChild(element("h3", `${name} (${plugin}): ${list.length}`));
  if (list.length === 0) return wrapper;
  const columns = ROOM_COLUMNS.filter((c) => list.some((item) => item[c] !== undefined));
  const table = element("table", undefined, { class: "rooms" });
  const head = element("tr");
  for (const c of columns) head.appendChild(element("th", c));
  table.appendChild(head);
  for (const item of list) {
    const row = element("tr", undefined, { "data-room": roomKey(item), "data-plugin": plugin });
    for (const c of columns) {
      const value = item[c];
      row.appendChild(element("td", typeof value === "object" ? JSON.stringify(value) : value));
    }
    table.appendChild(row);
  }
  wrapper.appendChild(table);
  return wrapper;
}

function renderRoomDetail(answers) {
  const detail = $("room-detail");
  const selected = state.room;
  const list = answers?.find((a) => a.plugin === selected?.plugin)?.response?.list;
  const item = Array.isArray(list) ? list.find((i) => roomKey(i) === selected.room) : undefined;
  detail.hidden = item === undefined;
  detail.textContent = item === undefined
    ? ""
    : `${selected.plugin} room ${selected.room}\n${JSON.stringify(item, null, 2)}`;
  state.lastRooms = answers;
}

// --- Metrics --------------------------------------------------------------------------------

/** Samples of the Prometheus text format: name, labels, value. */
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, labelText: m[2] ?? "", value: Number(m[3]) });
  }
  return samples;
}

function formatValue(value, unit) {
  if (!Number.isFinite(value)) return String(value);
  if (unit === "bytes") return `${(value / 1048576).toFixed(1)} MiB`;
  if (unit === "seconds") return `${value.toFixed(2)} s`;
  if (unit === "since") {
    const s = Math.max(0, Math.round(Date.now() / 1000 - value));
    return `${Math.floor(s / 3600)}h ${Math.floor(s / 60) % 60}m ${s % 60}s`;
  }
  return String(value);
}

function tile(key, label, value) {
  const node = element("div", undefined, { class: "tile", "data-metric": key });
  node.appendChild(element("div", value, { class: "value" }));
  node.appendChild(element("div", label, { class: "name" }));
  return node;
}

async function refreshMetrics(gen) {
  const headers = state.token ? { Authorization: `Bearer ${state.token}` } : {};
  let problem = "";
  let samples = [];
  try {
    const res = await fetch("/metrics", { headers, cache: "no-store" });
    if (res.status === 401) {
      problem = "GET /metrics answered 401: the metrics token is missing or wrong";
    } else if (!res.ok) problem = `GET /metrics answered ${res.status}`;
    else samples = parseMetrics(await res.text());
  } catch (e) {
    problem = `GET /metrics failed: ${e.message}`;
  }
  if (gen !== state.generation) return;
  $("metrics-error").textContent = problem;
  $("metrics-error").hidden = problem === "";
  const tiles = [];
  for (const def of TILES) {
    const series = samples.filter((s) => s.name === def.metric);
    if (series.length === 0) continue;
    if (def.sum || series.length === 1) {
      const total = series.reduce((sum, s) => sum + s.value, 0);
      tiles.push(tile(def.metric, def.label, formatValue(total, def.unit)));
    } else {
      for (const s of series) {
        const label = `${def.label} ${Object.values(s.labels).join(" ")}`;
        tiles.push(tile(def.metric + s.labelText, label, formatValue(s.value, def.unit)));
      }
    }
  }
  for (const s of samples.filter((s) => s.name.startsWith("janus_plugin_"))) {
    const plugin = (s.labels.plugin ?? "").replace(/^janus\.plugin\./, "");
    const label = `${plugin} ${s.name.slice("janus_plugin_".length)}`;
    tiles.push(tile(s.name + s.labelText, label, formatValue(s.value)));
  }
  $("metric-tiles").replaceChildren(...tiles);
}

// --- Refresh, sign in and out ---------------------------------------------------------------

async function refresh() {
  const gen = state.generation;
  if (state.secret === undefined || state.inFlight === gen) return;
  state.inFlight = gen;
  try {
    const [info, { status }] = await Promise.all([
      admin({ janus: "info" }),
      admin({ janus: "get_status" }),
    ]);
    if (gen !== state.generation) return;
    renderServer(info, status);
    await Promise.all([refreshSessions(gen), refreshRooms(info, gen), refreshMetrics(gen)]);
    if (gen !== state.generation) return;
    showError("");
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    if (gen !== state.generation) return;
    // The secret stopped working (changed, or the gateway restarted with another).
    if (e instanceof AdminError && e.code === 403) signOut(e.message);
    else showError(e.message);
  } finally {
    if (state.inFlight === gen) state.inFlight = -1;
  }
}

function setAuto(on) {
  clearInterval(state.timer);
  state.timer = on ? setInterval(refresh, REFRESH_MS) : undefined;
  $("auto").checked = on;
}

function signOut(message = "") {
  state.generation++;
  state.secret = undefined;
  state.token = "";
  state.sessions = [];
  state.session = undefined;
  state.handle = undefined;
  state.room = undefined;
  state.lastRooms = undefined;
  setAuto(false);
  for (const id of ["server-info", "metric-tiles", "session-list", "handle-list", "room-lists"]) {
    $(id).replaceChildren();
  }
  for (const id of ["session-count", "handle-title", "info-title", "handle-info", "room-silent"]) {
    $(id).textContent = "";
  }
  $("room-detail").hidden = true;
  $("room-detail").textContent = "";
  $("metrics-error").hidden = true;
  $("updated").textContent = "";
  $("main").hidden = true;
  $("toolbar").hidden = true;
  $("login").hidden = false;
  showError(message);
  $("secret").focus();
}

async function connect(event) {
  event.preventDefault();
  const gen = ++state.generation;
  state.secret = $("secret").value;
  state.token = $("token").value;
  $("secret").value = "";
  $("token").value = "";
  showError("");
  try {
    await admin({ janus: "get_status" });
  } catch (e) {
    if (gen === state.generation) {
      state.secret = undefined;
      state.token = "";
      showError(e.message);
    }
    return;
  }
  if (gen !== state.generation) return;
  $("login").hidden = true;
  $("main").hidden = false;
  $("toolbar").hidden = false;
  await refresh();
}

$("login").addEventListener("submit", connect);
$("signout").addEventListener("click", () => signOut());
$("refresh").addEventListener("click", () => refresh());
$("auto").addEventListener("change", (e) => setAuto(e.target.checked));
$("session-filter").addEventListener("input", renderSessions);
$("session-list").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-session]");
  if (!button) return;
  state.session = Number(button.dataset.session);
  state.handle = undefined;
  renderSessions();
  refreshHandles(state.generation).catch((err) => showError(err.message));
});
$("handle-list").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-handle]");
  if (!button) return;
  state.handle = Number(button.dataset.handle);
  refreshHandles(state.generation).catch((err) => showError(err.message));
});
$("room-lists").addEventListener("click", (e) => {
  const row = e.target.closest("tr[data-room]");
  if (!row) return;
  state.room = { plugin: row.dataset.plugin, room: row.dataset.room };
  renderRoomDetail(state.lastRooms);
});
