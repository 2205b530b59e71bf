// tradingcore operator dashboard: one Server-Sent Events stream renders every panel.
// No build step: plain ES2020 that browsers run as is; charts by the vendored uPlot.
"use strict";

const KEY_STORE = "tradingcore-key";
const $ = (id) => document.getElementById(id);
const state = {
  key: "",
  source: null,
  viewer: null,
  engaged: false,
  account: "",
  retry: null,
  charts: {},
  last: null,
};

// Formatting -------------------------------------------------------------------------------

const brl = new Intl.NumberFormat("pt-BR", { style: "currency", currency: "BRL" });
const percent = new Intl.NumberFormat("pt-BR", { style: "percent", maximumFractionDigits: 1 });

function money(text) {
  if (text === null || text === undefined) return "–";
  const value = Number(text);
  return brl.format(value === 0 ? 0 : value); // never "-R$ 0,00"
}

// A price arrives as a decimal string on the instrument's tick: keep its decimals exactly.
function price(text) {
  if (text === null || text === undefined || text === "") return "–";
  if (text === "MKT") return "market";
  const decimals = text.includes(".") ? text.split(".")[1].length : 0;
  return new Intl.NumberFormat("pt-BR", {
    minimumFractionDigits: decimals, maximumFractionDigits: decimals,
  }).format(Number(text));
}

function signClass(text) {
  const value = Number(text);
  return !text || value === 0 ? "" : value < 0 ? "neg" : "pos";
}

function clock(iso) {
  const at = new Date(iso);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.` +
    pad(at.getMilliseconds(), 3);
}

function age(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function ago(seconds) {
  return seconds === null || seconds === undefined ? "–" : `${age(seconds)} ago`;
}

function ms(value) {
  return value === null || value === undefined ? "–" : `${value.toFixed(value < 10 ? 1 : 0)} ms`;
}

// DOM helpers ------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function td(text, className) {
  return el("td", { class: className, text: text === null || text === undefined ? "–" : text });
}

function badge(text, className) {
  return el("span", { class: `badge ${className || text}`, text });
}

function fill(tbodyId, rows, columns, empty) {
  const body = $(tbodyId);
  if (rows.length === 0) {
    body.replaceChildren(el("tr", {}, el("td", { class: "empty", colspan: columns, text: empty })));
    return;
  }
  body.replaceChildren(...rows);
}

// Alerts stay until dismissed: a refresh never wipes a 403. -------------------------------

function alertUser(message) {
  const box = $("alerts");
  for (const existing of box.children) {
    if (existing.dataset.message === message) {
      existing.querySelector(".count").textContent = ` (×${++existing.dataset.count})`;
      return;
    }
  }
  const close = el("button", { type: "button", "aria-label": "Dismiss", text: "×" });
  const item = el("div", { class: "alert", role: "alert" },
    el("span", {}, message, el("span", { class: "count" })), close);
  item.dataset.message = message;
  item.dataset.count = "1";
  close.addEventListener("click", () => item.remove());
  box.append(item);
}

// Calls ------------------------------------------------------------------------------------

async function call(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "X-API-Key": state.key, "Content-Type": "application/json" },
  });
  let body = {};
  try { body = await response.json(); } catch { /* an empty or non-JSON error body */ }
  if (!response.ok) {
    const error = new Error(`${response.status} ${response.statusText}: ${body.detail || "failed"}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

// The stream -------------------------------------------------------------------------------

function setLive(mode, text) {
  document.body.dataset.stream = mode;
  $("live-text").textContent = text;
}

async function connect() {
  clearTimeout(state.retry);
  if (state.source) state.source.close();
  state.source = null;
  if (!state.key) {
    setLive("off", "enter an API key");
    return;
  }
  setLive("retrying", "connecting…"); // the page's first state said "not connected" meanwhile
  let token;
  try {
    token = (await call("/api/v1/dashboard/stream-token", { method: "POST" })).token;
  } catch (error) {
    setLive("off", "not connected");
    alertUser(`Could not open the live stream: ${error.message}`);
    if (error.status !== 401 && error.status !== 403) state.retry = setTimeout(connect, 3000);
    return;
  }
  const query = new URLSearchParams({ token });
  if (state.account) query.set("account", state.account);
  const source = new EventSource(`/api/v1/dashboard/stream?${query}`);
  state.source = source;
  source.addEventListener("open", () => setLive("live", "live"));
  source.addEventListener("snapshot", (event) => {
    setLive("live", "live");
    render(JSON.parse(event.data));
  });
  source.addEventListener("error", () => {
    if (source !== state.source) return;
    if (source.readyState === EventSource.CLOSED) {
      // The token expired or the server restarted: mint a new one.
      setLive("retrying", "reconnecting…");
      state.retry = setTimeout(connect, 1000);
    } else {
      setLive("retrying", "reconnecting…");
    }
  });
}

// Rendering --------------------------------------------------------------------------------

function render(data) {
  state.last = data;
  renderViewer(data);
  renderKillSwitch(data.kill_switch);
  renderHealth(data.health);
  renderKpis(data);
  renderPositions(data);
  renderSignals(data.signals);
  renderOrders(data.orders);
  renderFills(data.fills);
  renderCharts(data.charts);
  $("updated").textContent = `Updated ${clock(data.generated_at)}`;
  document.body.dataset.loaded = "true";
}

function renderViewer(data) {
  state.viewer = data.viewer;
  $("viewer").textContent =
    `${data.viewer.name} · ${data.viewer.role} · account ${data.viewer.account}`;
  $("change-key").hidden = false;
  const admin = data.viewer.role === "admin";
  $("account-filter").hidden = !admin;
  if (admin) {
    const select = $("account");
    const wanted = ["", ...data.accounts];
    const have = [...select.options].map((option) => option.value);
    if (wanted.join("\n") !== have.join("\n")) {
      select.replaceChildren(el("option", { value: "", text: "all accounts" }),
        ...data.accounts.map((name) => el("option", { value: name, text: name })));
    }
    select.value = data.account || "";
  }
}

function renderKillSwitch(ks) {
  state.engaged = ks.engaged;
  const card = $("kill");
  card.classList.toggle("engaged", ks.engaged);
  const badgeNode = $("kill-badge");
  badgeNode.textContent = ks.engaged ? "KILL SWITCH ENGAGED" : "Trading enabled";
  badgeNode.className = `badge big ${ks.engaged ? "bad" : "ok"}`;
  $("kill-detail").textContent = ks.actor
    ? `${ks.engaged ? "Engaged" : "Released"} by ${ks.actor}` +
      `${ks.changed_at ? ` at ${clock(ks.changed_at)}` : ""}: ${ks.reason}`
    : "Never engaged";
  const button = $("kill-button");
  const admin = state.viewer && state.viewer.role === "admin";
  // The API lets admin keys change it; a trader's attempt shows the 403 (kept on screen).
  const only = admin ? "" : " (admin only)";
  button.textContent = ks.engaged ? `Release kill switch${only}…` : `Engage kill switch${only}…`;
  button.className = ks.engaged ? "safe" : "danger";
}

const HOST_NAMES = { api: "API", capture: "Capture", analytics: "Analytics" };

function stateClass(text) {
  return text === "ok" ? "ok" : text === "degraded" || text === "unknown" ? "warn" :
    text === "not configured" ? "" : "bad";
}

function yesNo(value, yes, no) {
  return value === null || value === undefined ? "–" : value ? yes : no;
}

function renderHealth(hosts) {
  const cards = hosts.map((host) => {
    const rows = [
      ["State", host.status || host.state],
      ["Last tick", ago(host.last_tick_age_seconds)],
      ["Connection", host.connection
        ? `${host.connection}${host.connected === null ? "" : host.connected ? " ✓" : " ✗"}`
        : yesNo(host.connected, "connected", "disconnected")],
      ["Store", yesNo(host.store_ok, "ok", "failing")],
      ["Restarts", host.restarts === null ? "–" : String(host.restarts)],
      ["Checked", ago(host.checked_age_seconds)],
    ];
    if (host.detail) rows.push(["Detail", host.detail]);
    const list = el("dl");
    for (const [name, value] of rows) list.append(el("dt", { text: name }), el("dd", { text: value }));
    const card = el("article", { class: "card host", "data-host": host.name },
      el("h3", {}, el("span", { class: "name", text: HOST_NAMES[host.name] || host.name }),
        badge(host.state, stateClass(host.state))), list);
    if (Object.keys(host.report).length) {
      card.append(el("details", {}, el("summary", { text: "full report" }),
        el("pre", { text: JSON.stringify(host.report, null, 1) })));
    }
    return card;
  });
  $("health").replaceChildren(...cards);
}

function renderKpis(data) {
  const set = (id, text, cls) => { $(id).textContent = text; $(id).className = cls || ""; };
  set("kpi-net", money(data.totals.net_realized), signClass(data.totals.net_realized));
  set("kpi-unrealized", money(data.totals.unrealized), signClass(data.totals.unrealized));
  set("kpi-fees", money(data.totals.fees));
  const hit = data.charts.hit_rate;
  set("kpi-hit", hit.closes ? `${percent.format(hit.wins / hit.closes)} (${hit.wins}/${hit.closes})`
    : "–");
}

function renderPositions(data) {
  const rows = data.positions.map((p) => {
    const row = el("tr", { "data-symbol": p.symbol, "data-account": p.account },
      td(p.account, "l"), td(p.symbol, "l"), td(String(p.net_quantity), signClass(p.net_quantity)),
      td(price(p.average_price)), td(price(p.last_price)),
      td(money(p.gross_realized), signClass(p.gross_realized)), td(money(p.fees)),
      td(money(p.net_realized), signClass(p.net_realized)),
      td(money(p.unrealized), signClass(p.unrealized)));
    return row;
  });
  fill("positions", rows, 9, "No positions yet");
  const totals = data.totals;
  $("total-gross").textContent = money(totals.gross_realized);
  $("total-fees").textContent = money(totals.fees);
  $("total-net").textContent = money(totals.net_realized);
  $("total-unrealized").textContent = money(totals.unrealized);
}

function renderSignals(signals) {
  const rows = signals.map((s) => el("tr", { "data-signal": s.signal_id },
    el("td", { class: "l", title: s.time, text: clock(s.time) }), td(s.symbol, "l"),
    el("td", { class: "l" }, badge(s.direction)), td(`${(s.confidence * 100).toFixed(0)}%`),
    td(price(s.price)), td(s.model_version, "l"), td(ms(s.latency_ms))));
  fill("signals", rows, 7, "No signals yet");
  // On the feed clock no signal has a wall-clock latency: drop the column of dashes.
  const timed = signals.some((s) => s.latency_ms !== null && s.latency_ms !== undefined);
  document.getElementById("signals").closest("table").classList.toggle("no-latency", !timed);
}

function renderOrders(orders) {
  const rows = orders.map((o) => el("tr", { "data-order": o.order_id, "data-status": o.status },
    el("td", { class: "l", title: o.time, text: clock(o.time) }), td(o.account, "l"),
    td(o.symbol, "l"), el("td", { class: "l" }, badge(o.side)), td(String(o.quantity)),
    td(price(o.price)), el("td", { class: "l" }, badge(o.status)),
    td(`${o.filled_quantity}/${o.quantity}`), td(price(o.average_fill_price)),
    el("td", { class: "l reason", text: o.reason_code ? `${o.reason_code}: ${o.reason}` :
      o.reason || "" })));
  fill("orders", rows, 10, "No orders yet");
}

function renderFills(fills) {
  const rows = fills.map((f) => el("tr", {},
    el("td", { class: "l", title: f.time, text: clock(f.time) }), td(f.account, "l"),
    td(f.symbol, "l"), el("td", { class: "l" }, badge(f.side)), td(String(f.quantity)),
    td(price(f.price)), td(money(f.fees)), td(String(f.trade_id))));
  fill("fills", rows, 8, "No fills yet");
}

// Charts -----------------------------------------------------------------------------------

const COLORS = { p50: "#1f5fae", p95: "#c27c0e", p99: "#b3261e" };

function chartOptions(series, yLabel, width, yRange) {
  return {
    width, height: 200,
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    // One point (or one instant) would make uPlot span years: show a minute around it.
    scales: { x: { time: true }, ...(yRange ? { y: { range: yRange } } : {}) },
    axes: [{ stroke: "#5b6676", grid: { stroke: "#eef1f5" }, space: 80,
      values: (u, splits) => splits.map((s) => clock(new Date(s * 1000)).slice(0, 8)) },
      { stroke: "#5b6676", grid: { stroke: "#eef1f5" }, label: yLabel, size: 60 }],
    series: [{}, ...series],
  };
}

const CHARTS = {
  pnl: {
    id: "chart-pnl", label: "R$",
    series: [
      { label: "Cumulative", stroke: "#1f5fae", width: 2 },
      { label: "Drawdown", stroke: "#b3261e", fill: "#b3261e22", width: 1 },
    ],
    data: (c) => [c.pnl.t.map((t) => t / 1000), c.pnl.cumulative, c.pnl.drawdown],
  },
  hit: {
    id: "chart-hit", label: "%", range: [0, 100],
    series: [{ label: "Hit rate %", stroke: "#1b7f3b", width: 2 }],
    data: (c) => [c.hit_rate.t.map((t) => t / 1000), c.hit_rate.rate.map((r) => r * 100)],
  },
  signalLatency: {
    id: "chart-signal-latency", label: "ms",
    series: ["p50", "p95", "p99"].map((p) => ({ label: p, stroke: COLORS[p], width: 1.5 })),
    data: (c) => latencyData(c.signal_latency),
    source: (c) => c.signal_latency.source,
  },
  orderLatency: {
    id: "chart-order-latency", label: "ms",
    series: ["p50", "p95", "p99"].map((p) => ({ label: p, stroke: COLORS[p], width: 1.5 })),
    data: (c) => latencyData(c.order_latency),
    source: (c) => c.order_latency.source,
  },
};

function latencyData(series) {
  return [series.t.map((t) => t / 1000), series.p50, series.p95, series.p99];
}

function renderCharts(charts) {
  if (typeof uPlot === "undefined") return;
  for (const [name, spec] of Object.entries(CHARTS)) {
    const box = $(spec.id);
    const data = spec.data(charts);
    box.dataset.points = String(data[0].length);
    if (spec.source) $(`${spec.id}-source`).textContent = `· ${spec.source(charts)}`;
    if (data[0].length === 0) {
      if (state.charts[name]) { state.charts[name].destroy(); delete state.charts[name]; }
      if (!box.querySelector(".empty")) box.replaceChildren(el("div", { class: "empty",
        text: "No data yet" }));
      continue;
    }
    if (!state.charts[name]) {
      box.replaceChildren();
      state.charts[name] = new uPlot(
        chartOptions(spec.series, spec.label, box.clientWidth, spec.range), data, box);
    } else {
      state.charts[name].setData(data);
    }
    const first = data[0][0];
    const last = data[0][data[0].length - 1];
    if (last - first < 1) {
      // One instant would make uPlot span years: show a minute around it.
      state.charts[name].setScale("x", { min: first - 30, max: last + 30 });
    }
  }
}

const resize = new ResizeObserver(() => {
  for (const [name, chart] of Object.entries(state.charts)) {
    const width = $(CHARTS[name].id).clientWidth;
    if (width && Math.abs(width - chart.width) > 2) chart.setSize({ width, height: 200 });
  }
});
for (const spec of Object.values(CHARTS)) resize.observe($(spec.id));

// The kill switch: a confirmation dialog with a reason. -------------------------------------

$("kill-button").addEventListener("click", () => {
  const engage = !state.engaged;
  $("kill-dialog-title").textContent = engage ? "Engage the kill switch?" :
    "Release the kill switch?";
  $("kill-dialog-text").textContent = engage
    ? "Every new order is refused and every open order is canceled until an admin releases it."
    : "Trading resumes for every account. Only an admin key may release it.";
  $("kill-confirm").textContent = engage ? "Engage" : "Release";
  $("kill-confirm").className = engage ? "danger" : "safe";
  $("kill-reason").value = "";
  $("kill-dialog").dataset.action = engage ? "engage" : "release";
  $("kill-dialog").showModal();
  $("kill-reason").focus();
});

$("kill-cancel").addEventListener("click", () => $("kill-dialog").close());

$("kill-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const reason = $("kill-reason").value.trim();
  if (!reason) { $("kill-reason").focus(); return; }
  const action = $("kill-dialog").dataset.action;
  $("kill-dialog").close();
  try {
    renderKillSwitch(await call("/api/v1/risk/kill-switch",
      { method: "POST", body: JSON.stringify({ action, reason }) }));
  } catch (error) {
    alertUser(`Kill switch ${action} refused: ${error.message}`);
  }
});

// The key ---------------------------------------------------------------------------------

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.key = $("key").value.trim();
  $("key").value = "";
  sessionStorage.setItem(KEY_STORE, state.key);
  document.body.classList.remove("change-key");
  connect();
});

$("change-key").addEventListener("click", () => {
  document.body.classList.toggle("change-key");
  $("key").focus();
});

$("account").addEventListener("change", () => {
  state.account = $("account").value;
  connect();
});

const fragment = new URLSearchParams(location.hash.slice(1));
state.key = fragment.get("key") || sessionStorage.getItem(KEY_STORE) || "";
if (fragment.get("key")) {
  sessionStorage.setItem(KEY_STORE, state.key);
  history.replaceState(null, "", location.pathname + location.search); // out of the address bar
}
connect();
