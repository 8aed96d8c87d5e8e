// octoscope dashboard: each page fills itself in from the JSON API. Times are shown in UK local time
// whatever the browser's zone; charts are plotly.js (served from the installed plotly package).
"use strict";
(() => {
  const TZ = "Europe/London";
  const $ = (sel, root = document) => root.querySelector(sel);
  const body = document.body;
  const fmt = (opts) => new Intl.DateTimeFormat("en-GB", { timeZone: TZ, ...opts });
  const fTime = fmt({ hour: "2-digit", minute: "2-digit" });
  const fDay = fmt({ weekday: "short", day: "numeric", month: "short" });
  const fWhen = fmt({ weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  const fLong = fmt({ day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
  const fMonth = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", month: "short", year: "numeric" });
  const fDate = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short", year: "numeric" });
  const fParts = fmt({ year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

  const when = (iso) => (iso ? fWhen.format(new Date(iso)) : "never");
  const long = (iso) => (iso ? fLong.format(new Date(iso)) : "—");
  const time = (iso) => fTime.format(new Date(iso));
  const day = (iso) => fDay.format(new Date(iso));
  const dateOnly = (d) => fDate.format(new Date(d + "T12:00:00Z"));
  const month = (d) => fMonth.format(new Date(d + "T12:00:00Z"));
  const gbp = new Intl.NumberFormat("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const pounds = (p) => (p == null ? "—" : (p < 0 ? "−" : "") + "£" + gbp.format(Math.abs(p) / 100));
  const kwh = (v) => (v == null ? "—" : v.toFixed(Math.abs(v) < 10 ? 2 : 1) + " kWh");
  const ppk = (v) => (v == null ? "—" : v.toFixed(2) + "p/kWh");
  const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

  // An instant as UK local wall-clock time, "YYYY-MM-DD HH:MM:SS": what plotly's date axis lays out.
  function local(iso) {
    const p = Object.fromEntries(fParts.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  }
  function addDays(isoDate, n) {
    const d = new Date(isoDate + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }

  // Under /a/NUMBER/ (several accounts) every call stays inside that account.
  const BASE = document.body.dataset.base || "";
  async function getJSON(url, method = "GET") {
    const r = await fetch(BASE + url, { method, headers: { Accept: "application/json" } });
    if (!r.ok) {
      let detail = r.statusText;
      try { detail = (await r.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(`${detail}`);
    }
    return r.json();
  }
  function showError(err) {
    const el = $("#error");
    el.hidden = false;
    el.textContent = "Could not load this page's data: " + err.message;
  }
  const set = (root, field, text) => { const el = $(`[data-field="${field}"]`, root); if (el) el.textContent = text; };

  // --- charts --------------------------------------------------------------------------------------------
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  function theme() {
    const axis = { gridcolor: css("--grid"), linecolor: css("--line"), zerolinecolor: css("--line") };
    return {
      paper_bgcolor: css("--card"), plot_bgcolor: css("--card"),
      font: { color: css("--fg"), family: "system-ui, sans-serif", size: 12 },
      xaxis: { ...axis }, yaxis: { ...axis }, yaxis2: { ...axis },
    };
  }
  function draw(id, traces, extra = {}) {
    const el = document.getElementById(id);
    el.querySelectorAll(":scope > .chart-note").forEach((n) => n.remove());
    const t = theme();
    const layout = {
      ...t, margin: { l: 52, r: 52, t: 12, b: 36 }, hovermode: "x unified", bargap: 0.1,
      legend: { orientation: "h", x: 0, y: 1.12 }, ...extra,
      xaxis: { ...t.xaxis, ...(extra.xaxis || {}) },
      yaxis: { ...t.yaxis, ...(extra.yaxis || {}) },
    };
    if (extra.yaxis2) layout.yaxis2 = { ...t.yaxis2, ...extra.yaxis2 };
    Plotly.react(el, traces, layout, { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] });
    el.dataset.state = "drawn";
    el.dataset.ready = "1";
    return el;
  }
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    const t = theme();
    document.querySelectorAll(".js-plotly-plot").forEach((el) => Plotly.relayout(el, {
      paper_bgcolor: t.paper_bgcolor, plot_bgcolor: t.plot_bgcolor, "font.color": t.font.color,
      "xaxis.gridcolor": t.xaxis.gridcolor, "yaxis.gridcolor": t.yaxis.gridcolor,
    }));
  });
  const color = (name) => css(name);

  // --- loading, empty and failed ---------------------------------------------------------------------------
  // A chart with nothing to draw says so in words, never plotly's empty axes (2000 to 2001); one whose data
  // could not be had drops the picture it showed, which no longer answers what was asked, and says why.
  function chartNote(id, state, message) {
    const el = document.getElementById(id);
    if (el.classList.contains("js-plotly-plot")) Plotly.purge(el);
    const note = document.createElement("p");
    note.className = "chart-note";
    note.textContent = message;
    el.replaceChildren(note);
    el.dataset.state = state;
    el.dataset.ready = "1";
    return el;
  }
  const emptyChart = (id, message) => chartNote(id, "empty", message);
  const failedChart = (id, message) => chartNote(id, "error", message);
  function loadingChart(id) {
    const el = document.getElementById(id);
    el.dataset.state = "loading";
    el.removeAttribute("data-ready");
  }
  const emptyRow = (columns, text) => `<tr class="empty"><td colspan="${columns}" class="empty">${esc(text)}</td></tr>`;
  const nothing = (values) => !values.some((v) => v != null && v !== 0);

  // Phones: a table marked "reflow" shows each row as a card (app.css); each cell carries its column's
  // name to show beside it, copied here whenever a table's rows change.
  function labelCells(table) {
    const names = table.tHead ? Array.from(table.tHead.rows[0].cells, (th) => th.textContent.trim()) : [];
    for (const section of [...table.tBodies, ...(table.tFoot ? [table.tFoot] : [])]) {
      for (const tr of section.rows) {
        let column = 0;
        for (const td of tr.cells) {
          if (td.colSpan === 1) td.dataset.label = names[column] || "";
          column += td.colSpan;
        }
      }
    }
  }
  const relabel = () => document.querySelectorAll("table.reflow").forEach(labelCells);
  new MutationObserver(relabel).observe($("main"), { childList: true, subtree: true });

  // --- half-hours on a time axis ---------------------------------------------------------------------------
  // plotly lays dates out as wall-clock times without a zone: UK local times would put 25 October's two
  // 01:00s on one spot and leave a gap at 29 March's 01:00. So a chart of half-hours lays its instants out
  // at one fixed UTC offset (the UK's at the chart's start: on other days, plain UK time), every half-hour
  // 30 minutes from the next, and labels its ticks with the real UK time; the repeated hour carries its
  // zone ("01:00 BST", "01:00 GMT").
  const fZoned = fmt({ hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" });
  const ms = (t) => (typeof t === "number" ? t : Date.parse(t));
  const ukOffset = (t) => Date.parse(local(ms(t)).replace(" ", "T") + "Z") - ms(t);
  // The instant a UK day starts: midnight always exists (the clocks change at 01:00 and 02:00).
  function ukMidnight(isoDate) {
    const utc = Date.parse(isoDate + "T00:00:00Z");
    return [utc, utc - 3600000].find((t) => local(t) === `${isoDate} 00:00:00`) ?? utc;
  }
  function timeAxis(fromMs, toMs, widthPx) {
    const offset = ukOffset(fromMs);
    const at = (t) => wallAt(ms(t), offset);
    const walls = [];
    for (let t = fromMs; t <= toMs; t += HH_MS) walls.push([t, local(t)]);
    const perHour = {};
    for (const [, w] of walls) perHour[w.slice(0, 13)] = (perHour[w.slice(0, 13)] || 0) + 1;
    const hours = (toMs - fromMs) / 3600000;
    const room = Math.max(2, Math.floor((widthPx || 600) / 70)); // labels about 70 px apart
    const step = [1, 2, 3, 6, 12, 24].find((h) => hours / h <= room) || 24 * Math.ceil(hours / 24 / room);
    const tickvals = [];
    const ticktext = [];
    let lastDay = null;
    let days = 0;
    for (const [t, w] of walls) {
      const hour = Number(w.slice(11, 13));
      const repeated = perHour[w.slice(0, 13)] > 2; // the hour the clocks go back: four half-hours
      if (w.slice(14, 16) !== "00" || (hour % Math.min(step, 24) !== 0 && !(repeated && step < 24))) continue;
      if (step > 24 && days++ % (step / 24) !== 0) continue;
      const newDay = w.slice(0, 10) !== lastDay;
      lastDay = w.slice(0, 10);
      const label = step >= 24 ? day(t) : (repeated ? fZoned.format(new Date(t)) : w.slice(11, 16)) + (newDay ? `<br>${day(t)}` : "");
      tickvals.push(at(t));
      ticktext.push(label);
    }
    return { at, zoned: (t) => fZoned.format(new Date(ms(t))), xaxis: { type: "date", tickmode: "array", tickvals, ticktext } };
  }

  // Price levels, the same on the chart and its legend: a bar's colour says how dear its half-hour is, in
  // p/kWh inc VAT. Export is the other way round (a high price is good); gas has one flat colour.
  const LEVELS = {
    electricity: [
      { name: "negative", below: 0, label: "below zero: you are paid to use" },
      { name: "green", below: 15, label: "under 15p" },
      { name: "amber", below: 25, label: "15p to 25p" },
      { name: "red", below: Infinity, label: "25p and over" },
    ],
    export: [
      { name: "negative", below: 0, label: "below zero: exporting costs you" },
      { name: "red", below: 5, label: "under 5p" },
      { name: "amber", below: 15, label: "5p to 15p" },
      { name: "green", below: Infinity, label: "15p and over" },
    ],
    gas: [{ name: "flat", below: Infinity, label: "gas unit rate" }],
  };
  const LEVEL_COLOURS = { negative: "--blue", green: "--green", amber: "--amber", red: "--red", flat: "--accent" };
  const levelOf = (fuel, v) => LEVELS[fuel].find((l) => v < l.below);

  // --- Overview ------------------------------------------------------------------------------------------
  const FUEL_NAMES = { electricity: "Electricity", gas: "Gas", export: "Export" };
  // One change against the period before, its arrow for the direction and its colour for what it means to
  // the household: more used or paid is worse, more exported or earned is better.
  function change(what, pct, previous, isExport) {
    if (pct == null) return `<span class="sub" data-change="${what}" title="${esc(previous)}">${what} —</span>`;
    const worse = pct > 0 ? !isExport : pct < 0 ? isExport : null;
    const cls = worse == null ? "" : worse ? "worse" : "better";
    const arrow = pct > 0 ? "▲" : pct < 0 ? "▼" : "＝";
    return `<span class="${cls}" data-change="${what}" title="${esc(previous)}">${what} ${arrow} ${Math.abs(pct).toFixed(0)}%</span>`;
  }
  async function overview() {
    const d = await getJSON("/api/overview");
    const price = d.price_now;
    const flat = Boolean(price && price.pence_per_kwh != null && !d.next_cheap && !price.until);
    const windowCard = cheapestCard(flat);
    set($("#price-now"), "price", price ? ppk(price.pence_per_kwh) : "—");
    set($("#price-now"), "until", price && price.until ? `until ${time(price.until)}` : price ? "no change known ahead" : "no import tariff in force");
    const cheap = d.next_cheap;
    set($("#next-cheap"), "cheap", cheap ? ppk(cheap.pence_per_kwh) : price ? "the same all day" : "—");
    set($("#next-cheap"), "cheap-when", cheap ? (cheap.now ? `now until ${time(cheap.to)}` : `${day(cheap.from)} ${time(cheap.from)}–${time(cheap.to)}`) : "");
    const fresh = Object.entries(d.fuels).map(([f, v]) => `${FUEL_NAMES[f]} to ${when(v.data_until)}`);
    set($("#freshness"), "fresh", fresh.join(" · ") + (d.last_sync ? ` · synced ${when(d.last_sync.started)}` : ""));
    const html = Object.entries(d.fuels).map(([fuel, v]) => {
      const money = fuel === "export" ? "Earned" : "Cost";
      const rows = v.periods.map((p) => {
        const prev = `${p.previous.kwh.toFixed(2)} kWh, ${pounds(p.previous.pence)}: ${p.previous.label}, energy to ${when(p.previous.data_to)}`;
        // Every figure says which days it covers and whether standing charges are in it (domain.periods).
        const name = `<td class="wrap">${p.title}${p.partial ? ' <span class="flag" title="some half-hours or prices missing">partial</span>' : ""}` +
          `<br><span class="sub" data-period-label>${esc(p.label)}</span></td>`;
        const used = p.kwh == null ? `<td class="num sub wrap" title="Octopus publishes a day's half-hours the next morning">no readings yet</td>` : `<td class="num">${kwh(p.kwh)}</td>`;
        return `<tr data-period="${p.name}">${name}` +
          `${used}<td class="num" data-pence="${p.pence}">${pounds(p.pence)}</td>` +
          `<td class="num changes">${change("kWh", p.change_pct.kwh, prev, fuel === "export")}<br>` +
          `${change("£", p.change_pct.pence, prev, fuel === "export")}</td></tr>`;
      }).join("");
      return `<div class="fuel ${fuel}" data-fuel="${fuel}"><h2>${FUEL_NAMES[fuel]}</h2><table><thead><tr><th>Period</th><th class="num">Used</th>` +
        `<th class="num">${money}</th><th class="num">vs before</th></tr></thead><tbody>${rows}</tbody></table></div>`;
    }).join("");
    $("#fuels").innerHTML = html || `<p class="sub">No meters stored yet: <code>octoscope sync</code> fetches the account and its readings.</p>`;
    $("#fuels").dataset.ready = "1";
    const energy = energyChart(Object.keys(d.fuels));
    try {
      const recent = await getJSON("/api/usage?days=14&resolution=day&fuel=electricity");
      const pts = recent.points;
      if (nothing(pts.kwh)) emptyChart("recent-chart", "No electricity readings stored for the last 14 days yet.");
      else {
        draw("recent-chart", [{
          type: "bar", name: "kWh", x: pts.start, y: pts.kwh, marker: { color: color("--accent") },
          customdata: pts.pence.map(pounds), hovertemplate: "%{y:.2f} kWh · %{customdata}<extra></extra>",
        }], { xaxis: { type: "date", tickformat: "%a %d %b" }, yaxis: { title: { text: "kWh", rangemode: "tozero" } }, showlegend: false });
      }
    } catch (err) { failedChart("recent-chart", `Could not load the last 14 days: ${err.message}`); }
    await Promise.all([windowCard, energy]);
  }

  // The Overview's energy-and-cost chart: import and gas stacked up, export below zero, and what the period
  // cost (import and gas less export earnings, standing charges included) as a line on its own axis. ◀ ▶
  // step through days (half-hours), weeks and months (days) and years (months).
  const SPANS = {
    day: { resolution: "halfhour", start: (d) => d, next: (d, n) => addDays(d, n) },
    week: { resolution: "day", start: (d) => addDays(d, -((new Date(d + "T12:00:00Z").getUTCDay() + 6) % 7)), next: (d, n) => addDays(d, 7 * n) },
    month: { resolution: "day", start: (d) => d.slice(0, 8) + "01", next: (d, n) => addMonths(d, n) },
    year: { resolution: "month", start: (d) => d.slice(0, 5) + "01-01", next: (d, n) => addMonths(d, 12 * n) },
  };
  function addMonths(isoDate, n) {
    const d = new Date(isoDate.slice(0, 8) + "01T12:00:00Z");
    d.setUTCMonth(d.getUTCMonth() + n);
    return d.toISOString().slice(0, 10);
  }
  // One style for a day, alone or ending a week: "Fri 20 Nov 2026", "Mon 16 Nov – Sun 22 Nov 2026".
  function periodName(span, first, end) {
    const named = (d) => fDay.format(new Date(d + "T12:00:00Z"));
    const last = addDays(end, -1);
    if (span === "day") return `${named(first)} ${first.slice(0, 4)}`;
    if (span === "month") return month(first);
    if (span === "year") return first.slice(0, 4);
    return `${named(first)}${first.slice(0, 4) === last.slice(0, 4) ? "" : " " + first.slice(0, 4)} – ${named(last)} ${last.slice(0, 4)}`;
  }
  async function energyChart(fuels) {
    const id = "energy-chart";
    const box = $("#energy");
    const params = new URLSearchParams(location.search);
    let span = SPANS[params.get("span")] ? params.get("span") : "week";
    let first = SPANS[span].start(params.get("at") || body.dataset.yesterday);
    let seq = 0; // answers to an older click are dropped
    const later = box.querySelector('[data-step="1"]');
    async function show() {
      const mine = ++seq;
      const end = SPANS[span].next(first, 1);
      box.querySelectorAll("[data-span]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.span === span)));
      later.disabled = end > body.dataset.yesterday; // nothing after the period that holds yesterday
      $("#energy-period").textContent = periodName(span, first, end);
      Object.assign(box.dataset, { span, from: first, to: end });
      loadingChart(id);
      const summary = $("#energy-summary");
      summary.classList.remove("error");
      const resolution = SPANS[span].resolution;
      let answers;
      try {
        answers = await Promise.all(fuels.map((fuel) => getJSON("/api/usage?" + new URLSearchParams({ from: first, to: end, fuel, resolution }))));
      } catch (err) {
        if (mine !== seq) return;
        failedChart(id, `Could not load this period: ${err.message}`);
        summary.textContent = "";
        return;
      }
      if (mine !== seq) return;
      const half = resolution === "halfhour";
      const axis = half ? timeAxis(ukMidnight(first), ukMidnight(end), $("#" + id).clientWidth) : null;
      const at = (s) => (half ? axis.at(s) : s);
      const palette = { electricity: color("--accent"), gas: color("--accent2"), export: color("--good") };
      const traces = [];
      const cost = new Map(); // x -> pence, import and gas less export
      const read = new Set(); // x with a reading: a day with none yet (today) gets no cost point, not £0.00
      let any = false;
      for (const d of answers) {
        const p = d.points;
        const isExport = d.fuel === "export";
        if (!nothing(p.kwh)) any = true;
        p.start.forEach((s, i) => {
          const pence = p.pence[i] == null ? 0 : p.pence[i];
          cost.set(at(s), (cost.get(at(s)) || 0) + (isExport ? -pence : pence));
          if (p.kwh[i]) read.add(at(s));
        });
        traces.push({ type: "bar", name: FUEL_NAMES[d.fuel] + (isExport ? " (below zero)" : ""), x: p.start.map(at),
          y: p.kwh.map((v) => (v == null ? null : isExport ? -v : v)), marker: { color: palette[d.fuel] },
          customdata: p.pence.map(pounds), hovertemplate: `${FUEL_NAMES[d.fuel]}: %{y:.2f} kWh · ${isExport ? "earned" : "cost"} %{customdata}<extra></extra>` });
      }
      if (!any) {
        emptyChart(id, `No readings stored for ${periodName(span, first, end)}.`);
        summary.textContent = "";
        return;
      }
      const xs = [...cost.keys()].filter((x) => read.has(x)).sort();
      traces.push({ type: "scatter", mode: "lines+markers", name: "Cost, £", x: xs, y: xs.map((x) => cost.get(x) / 100), yaxis: "y2",
        line: { color: color("--fg"), width: 2, shape: half ? "hv" : "linear" }, marker: { size: half ? 3 : 6 },
        hovertemplate: "net £%{y:.2f}<extra></extra>" });
      draw(id, traces, {
        barmode: "relative", hovermode: "x unified",
        xaxis: half ? axis.xaxis : { type: "date", tickformat: span === "year" ? "%b" : "%a %d" },
        yaxis: { title: { text: "kWh" } },
        yaxis2: { title: { text: "£" }, overlaying: "y", side: "right", showgrid: false, rangemode: "tozero" },
        margin: { l: 52, r: 52, t: 40, b: 48 },
      });
      const sums = answers.map((d) => `${FUEL_NAMES[d.fuel].toLowerCase()} ${kwh(d.totals.kwh)}`);
      // The totals, not the points: they hold every day's standing charge, today's too (domain.periods).
      const net = answers.reduce((a, d) => a + (d.fuel === "export" ? -d.totals.pence : d.totals.pence), 0);
      const labelled = answers.find((d) => d.totals.standing_included) || answers[0];
      summary.textContent = `${labelled.totals.label}: ${sums.join(", ")}; net cost ${pounds(net)}.`;
    }
    box.querySelectorAll("[data-step]").forEach((b) => b.addEventListener("click", () => {
      first = SPANS[span].next(first, Number(b.dataset.step));
      show();
    }));
    box.querySelectorAll("[data-span]").forEach((b) => b.addEventListener("click", () => {
      // The new period holds yesterday if the old one did, else the old one's first day.
      const y = body.dataset.yesterday;
      const anchor = first <= y && y < SPANS[span].next(first, 1) ? y : first;
      span = b.dataset.span;
      first = SPANS[span].start(anchor);
      show();
    }));
    return show();
  }
  // The Overview's cheapest 3 hours ahead, from /api/cheapest: what the Prices page shows for 3 hours.
  async function cheapestCard(flat) {
    const card = $("#cheapest-window");
    try {
      const c = await getJSON("/api/cheapest?hours=3&top=1");
      const w = c.windows[0];
      card.dataset.start = w.start;
      card.dataset.end = w.end;
      set(card, "window", flat ? `any time, ${ppk(w.average_pence_per_kwh)}` : ppk(w.average_pence_per_kwh));
      set(card, "window-when", flat ? "one price for as long as prices are known" : `${day(w.start)} ${time(w.start)}–${time(w.end)}`);
    } catch (err) {
      set(card, "window", "not known yet");
      set(card, "window-when", err.message);
    }
  }

  // --- Usage ---------------------------------------------------------------------------------------------
  function usage() {
    const form = $("#usage-form");
    const params = new URLSearchParams(location.search);
    const today = body.dataset.today;
    form.from.value = params.get("from") || addDays(today, -7);
    form.to.value = params.get("to") || today;
    form.fuel.value = params.get("fuel") || "electricity";
    form.resolution.value = params.get("resolution") || "auto";
    form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
    form.fuel.addEventListener("change", load);
    form.resolution.addEventListener("change", load);
    form.querySelectorAll("[data-range]").forEach((b) => b.addEventListener("click", () => {
      const r = b.dataset.range;
      form.to.value = today;
      form.from.value = r === "yesterday" ? addDays(today, -1) : addDays(today, -Number(r));
      if (r === "yesterday") form.to.value = today;
      load();
    }));
    async function load() {
      const q = new URLSearchParams({ from: form.from.value, to: form.to.value, fuel: form.fuel.value, resolution: form.resolution.value });
      history.replaceState(null, "", "?" + q);
      loadingChart("usage-chart");
      const summary = $("#usage-summary");
      try {
        const d = await getJSON("/api/usage?" + q);
        $("#error").hidden = true;
        summary.classList.remove("error");
        const p = d.points;
        const half = d.resolution === "halfhour";
        const span = d.from === addDays(d.to, -1) ? dateOnly(d.from) : `${dateOnly(d.from)} to ${dateOnly(addDays(d.to, -1))}`;
        const fuelName = FUEL_NAMES[d.fuel].toLowerCase();
        if (nothing(p.kwh)) {
          const why = `No ${fuelName} readings stored for ${span}`;
          emptyChart("usage-chart", `${why}. Octopus publishes a day's half-hours the next morning; octoscope sync fetches them.`);
          summary.textContent = why + ".";
          return;
        }
        const axis = half ? timeAxis(ukMidnight(d.from), ukMidnight(d.to), $("#usage-chart").clientWidth) : null;
        const x = half ? p.start.map(axis.at) : p.start;
        const when = half ? p.start.map((s) => `${day(s)} ${axis.zoned(s)}`) : p.start.map((s) => s);
        const price = half ? p.pence_per_kwh : p.average_pence_per_kwh;
        const money = d.fuel === "export" ? "earned" : "cost";
        draw("usage-chart", [
          { type: "bar", name: "kWh", x, y: p.kwh, marker: { color: color("--accent") },
            customdata: p.pence.map((v, i) => [when[i], pounds(v)]), hovertemplate: `%{customdata[0]}: %{y:.3f} kWh · ${money} %{customdata[1]}<extra></extra>` },
          { type: "scatter", mode: "lines", name: half ? "unit price" : "average price", x, y: price, yaxis: "y2",
            line: { color: color("--accent2"), shape: half ? "hv" : "linear", width: 2 }, hovertemplate: "%{y:.2f}p/kWh<extra></extra>" },
        ], {
          xaxis: half ? axis.xaxis : { type: "date" },
          hovermode: half ? "closest" : "x unified",
          yaxis: { title: { text: "kWh" }, rangemode: "tozero" },
          // From zero: a flat price is a flat line, not a zoom into 5.955 to 6.384.
          yaxis2: { title: { text: "p/kWh" }, overlaying: "y", side: "right", showgrid: false, rangemode: "tozero" },
        });
        const t = d.totals;
        // The label says the days and whether standing charges are in the figure, as on every page.
        summary.textContent = `${t.label}: ${kwh(t.kwh)}, ${money} ${pounds(t.pence)}` +
          (t.average_pence_per_kwh != null ? `, average ${ppk(t.average_pence_per_kwh)}` : "") +
          (half ? ` · ${t.half_hours} half-hours` : ` · by ${d.resolution}`) + (d.fuel === "electricity" ? "" : ` · ${d.fuel}`);
      } catch (err) {
        // The old chart answered another question: it goes, and the reason takes its place.
        failedChart("usage-chart", `Nothing to show: ${err.message}`);
        summary.classList.add("error");
        summary.textContent = err.message;
      }
    }
    return load();
  }

  // --- Prices --------------------------------------------------------------------------------------------
  // Runs of consecutive half-hours ({start, end} ISO) joined into stretches, for shading and for words.
  function stretches(items) {
    const out = [];
    for (const it of items) {
      const last = out[out.length - 1];
      if (last && new Date(last.end).getTime() === new Date(it.start).getTime()) last.end = it.end;
      else out.push({ start: it.start, end: it.end });
    }
    return out;
  }
  const HH_MS = 30 * 60 * 1000;
  const slotEnd = (iso) => new Date(new Date(iso).getTime() + HH_MS).toISOString();
  const span = (s) => `${day(s.start)} ${time(s.start)}–${time(s.end)}`;

  async function prices() {
    const today = body.dataset.today;
    const tomorrow = addDays(today, 1);
    const form = $("#prices-form");
    const wf = $("#cheapest-form");
    const params = new URLSearchParams(location.search);
    form.fuel.value = params.get("fuel") || "electricity";
    for (const name of ["hours", "after", "before", "mode", "top", "kw"]) if (params.has(name)) wf[name].value = params.get(name);
    const syncTop = () => { wf.top.disabled = wf.mode.value === "any"; };
    syncTop();
    let shown = null; // the prices drawn
    let windows = []; // the windows found, as the API gave them

    function remember() {
      const q = new URLSearchParams();
      if (form.fuel.value !== "electricity") q.set("fuel", form.fuel.value);
      for (const name of ["hours", "after", "before", "mode", "top", "kw"]) {
        const v = wf[name].value;
        if (v && !(name === "top" && wf.top.disabled)) q.set(name, v);
      }
      history.replaceState(null, "", q.toString() ? "?" + q : location.pathname);
    }

    function drawPrices() {
      const d = shown;
      const rates = d.rates;
      if (!rates.length) {
        $("#price-legend").innerHTML = "";
        if (d.failed) failedChart("prices-chart", d.failed);
        else emptyChart("prices-chart", "No prices stored for today and tomorrow yet: octoscope sync fetches them.");
        return;
      }
      const end = addDays(today, 2);
      const axis = timeAxis(ukMidnight(today), ukMidnight(end), $("#prices-chart").clientWidth);
      const local = axis.at; // this chart's time axis (see timeAxis): plain UK time but on clock-change days
      const x = rates.map((r) => local(r.start));
      const y = rates.map((r) => r.pence_inc_vat);
      const levels = y.map((v) => levelOf(d.fuel, v));
      const shapes = [];
      const annotations = [];
      // Shade the cheapest windows (on the import tariff: the one they are sought on).
      if (d.fuel === "electricity") {
        windows.forEach((w, i) => {
          for (const s of stretches(w.slots.map((h) => ({ start: h.start, end: slotEnd(h.start) })))) {
            shapes.push({ type: "rect", name: `window-${i + 1}`, layer: "below", xref: "x", yref: "paper",
              x0: local(s.start), x1: local(s.end), y0: 0, y1: 1, line: { width: 0 },
              fillcolor: color("--accent2"), opacity: i === 0 ? 0.28 : 0.14 });
          }
          annotations.push({ x: local(w.start), xanchor: "left", yref: "paper", y: 1, yanchor: "bottom",
            text: `#${i + 1}`, showarrow: false, font: { color: color("--accent2"), size: 11 } });
        });
      }
      // What is not published yet, greyed: Agile's next day appears about 16:00.
      const known = d.published_until ? local(d.published_until) : null;
      const last = local(ukMidnight(end));
      if (known && known < last && rates.length) {
        shapes.push({ type: "rect", name: "unpublished", layer: "below", xref: "x", yref: "paper", x0: known, x1: last,
          y0: 0, y1: 1, line: { width: 0 }, fillcolor: color("--grid"), opacity: 0.6 });
        if (Date.parse(d.published_until) <= ukMidnight(tomorrow) + 12 * 3600000) {
          annotations.push({ x: known, xanchor: "left", yref: "paper", y: 0.5, text: " not published yet", showarrow: false,
            font: { color: color("--muted"), size: 12 } });
        }
      }
      const now = body.dataset.now;
      shapes.push({ type: "line", name: "now", xref: "x", x0: local(now), x1: local(now), yref: "paper", y0: 0, y1: 1,
        line: { color: color("--fg"), dash: "dot", width: 1 } });
      annotations.push({ x: local(now), yref: "paper", y: 1, yanchor: "bottom", text: "now", showarrow: false, font: { size: 11 } });
      // Each bar in its level's colour; a negative price hatched as well, so it shows without colour too.
      draw("prices-chart", [{
        type: "bar", name: "p/kWh", x, y, width: HH_MS * 0.9,
        marker: { color: levels.map((l) => color(LEVEL_COLOURS[l.name])),
          pattern: { shape: y.map((v) => (v < 0 ? "/" : "")), fgcolor: "#ffffff", solidity: 0.35 } },
        customdata: rates.map((r, i) => [`${day(r.start)} ${axis.zoned(r.start)}–${time(r.end)}`, levels[i].label]),
        hovertemplate: "%{customdata[0]}: %{y:.2f}p/kWh (%{customdata[1]})<extra></extra>",
      }], {
        xaxis: { ...axis.xaxis, range: [local(ukMidnight(today)), last] },
        // From zero, whatever the prices: a flat tariff is drawn flat, not zoomed into 24.49 to 24.51.
        yaxis: { title: { text: "p/kWh inc VAT" }, zeroline: true, rangemode: "tozero" }, shapes, annotations, showlegend: false, hovermode: "closest",
        margin: { l: 52, r: 16, t: 22, b: 48 },
      });
      const shownLevels = LEVELS[d.fuel].filter((l) => l.name !== "negative" || y.some((v) => v < 0));
      $("#price-legend").innerHTML = "Bars: " + shownLevels.map((l) => `<span data-level="${l.name}" data-colour="${esc(color(LEVEL_COLOURS[l.name]))}">` +
        `<span class="swatch level-${l.name}${l.name === "negative" ? " negative" : ""}"></span>${esc(l.label)}</span>`).join("");
    }

    function describePrices() {
      const d = shown;
      const rates = d.rates;
      const what = { electricity: "import", export: "export", gas: "gas" }[d.fuel];
      $("#prices-tariff").textContent = `${d.name || d.product} · ${d.tariff} (${what}) · ` +
        (d.published_until ? `prices published to ${when(d.published_until)}` : "one price in force until further notice");
      const parts = [];
      if (d.now) parts.push(`Now ${ppk(d.now.pence_inc_vat)} (${time(d.now.start)}–${time(d.now.end)})`);
      if (rates.length) {
        const values = rates.map((r) => r.pence_inc_vat);
        const lo = Math.min(...values), hi = Math.max(...values);
        if (lo === hi) parts.push(`one price all day: ${ppk(lo)}`);
        else {
          const at = (v) => rates.filter((r) => r.pence_inc_vat === v).map((r) => ({ start: r.start, end: r.end }));
          parts.push(`lowest ${ppk(lo)} from ${span(stretches(at(lo))[0])}`, `highest ${ppk(hi)} from ${span(stretches(at(hi))[0])}`);
        }
      }
      const negative = rates.filter((r) => r.pence_inc_vat < 0);
      let html = rates.length === 0 ? "No prices stored for today and tomorrow yet: run <code>octoscope sync</code>." : esc(parts.join(" · ")) + ".";
      if (negative.length) {
        const paid = d.fuel === "export" ? "exporting costs you" : "you are paid to use";
        html += ` <span class="negative" id="negative-prices">${negative.length} half-hour${negative.length > 1 ? "s" : ""} at a negative price</span> (${paid}): ` +
          esc(stretches(negative).map(span).join(", ")) + ".";
      } else if (rates.length) {
        html += " No negative prices in these two days.";
      }
      $("#prices-note").innerHTML = html;
      // Tomorrow's prices: Agile's appear about 16:00 UK (the scheduler fetches them then).
      const note = $("#tomorrow-note");
      const hasTomorrow = rates.some((r) => local(r.start).slice(0, 10) === tomorrow);
      note.hidden = hasTomorrow || !d.published_until || rates.length === 0;
      note.textContent = `Tomorrow's prices are not published yet (usually about 16:00). Prices are known to ${when(d.published_until)}; ` +
        "octoscope fetches tomorrow's as soon as Octopus publishes them.";
    }

    async function loadPrices() {
      const q = new URLSearchParams({ from: today, to: addDays(today, 2), fuel: form.fuel.value });
      try {
        shown = await getJSON("/api/prices?" + q);
        $("#error").hidden = true;
      } catch (err) {
        shown = { fuel: form.fuel.value, rates: [], name: "", product: "", tariff: "", published_until: null, now: null, failed: err.message };
        $("#prices-tariff").textContent = err.message;
        drawPrices();
        $("#prices-note").textContent = "";
        $("#tomorrow-note").hidden = true;
        return;
      }
      describePrices();
      drawPrices();
    }

    async function loadWindows() {
      const q = new URLSearchParams({ hours: wf.hours.value, mode: wf.mode.value });
      if (wf.mode.value !== "any") q.set("top", wf.top.value);
      for (const name of ["after", "before", "kw"]) if (wf[name].value) q.set(name, wf[name].value);
      const table = $("#cheapest-table");
      table.removeAttribute("data-ready");
      const summary = $("#cheapest-summary");
      try {
        const c = await getJSON("/api/cheapest?" + q);
        windows = c.windows;
        summary.classList.remove("error");
        summary.textContent = `Searched ${when(c.from)} to ${when(c.to)} on ${c.tariff}` +
          (c.published_until ? " (as far as published)" : "") + (c.mode === "any" ? " · the cheapest half-hours, together or not" : "");
        const hasCost = windows.some((w) => w.cost_pence != null);
        $("#cheapest-table tbody").innerHTML = windows.map((w, i) => {
          const runs = stretches(w.slots.map((h) => ({ start: h.start, end: slotEnd(h.start) })));
          const halves = c.mode === "any" ? runs.map((s) => `${time(s.start)}–${time(s.end)}`).join(", ") : `${w.slots.length}`;
          return `<tr data-start="${esc(w.start)}" data-end="${esc(w.end)}"><td>${i + 1}</td><td>${day(w.start)} ${time(w.start)}</td>` +
            `<td>${day(w.end) === day(w.start) ? "" : day(w.end) + " "}${time(w.end)}</td><td class="num">${w.average_pence_per_kwh.toFixed(2)}</td>` +
            `<td class="num">${w.cost_pence != null ? `${pounds(w.cost_pence)} for ${w.kwh.toFixed(1)} kWh` : "—"}</td><td class="wrap">${halves}</td></tr>`;
        }).join("") || emptyRow(6, "No window of that length in the prices known ahead.");
        table.querySelectorAll("th")[4].textContent = hasCost ? "Cost" : "Cost (give a load)";
      } catch (err) {
        windows = [];
        summary.classList.add("error");
        summary.textContent = err.message;
        $("#cheapest-table tbody").innerHTML = emptyRow(6, `No windows: ${err.message}`);
      }
      table.dataset.ready = "1";
    }

    form.fuel.addEventListener("change", async () => { remember(); await loadPrices(); });
    wf.mode.addEventListener("change", syncTop);
    wf.addEventListener("submit", async (e) => {
      e.preventDefault();
      remember();
      await loadWindows();
      if (shown) drawPrices();
    });
    await Promise.all([loadPrices(), loadWindows()]);
    drawPrices();
  }

  // --- Costs ---------------------------------------------------------------------------------------------
  function costs() {
    const form = $("#costs-form");
    const params = new URLSearchParams(location.search);
    const today = body.dataset.today;
    const first = today.slice(0, 8) + "01";
    const monthsBack = (n) => { const d = new Date(first + "T12:00:00Z"); d.setUTCMonth(d.getUTCMonth() + n); return d.toISOString().slice(0, 10); };
    form.from.value = params.get("from") || monthsBack(-11);
    form.to.value = params.get("to") || monthsBack(1);
    form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
    // A named period is resolved by the server (domain.periods), so that it means what it means everywhere.
    form.querySelectorAll("[data-period]").forEach((b) => b.addEventListener("click", () => load(b.dataset.period)));
    compareSection();
    billsSection();
    async function load(period = null) {
      const asked = period ? { period } : { from: form.from.value, to: form.to.value };
      const q = new URLSearchParams({ ...asked, by: "month" });
      loadingChart("costs-chart");
      history.replaceState(null, "", "?" + new URLSearchParams(asked));
      try {
        const d = await getJSON("/api/costs?" + q);
        $("#error").hidden = true;
        form.from.value = d.from;
        form.to.value = d.to;
        const traces = [];
        const palette = { electricity: color("--accent"), gas: color("--accent2"), export: color("--good") };
        for (const fuel of ["electricity", "gas", "export"]) {
          if (!d[fuel]) continue;
          const b = d[fuel].buckets;
          traces.push({ type: "bar", name: FUEL_NAMES[fuel], x: b.map((r) => r.from), marker: { color: palette[fuel] },
            y: b.map((r) => (fuel === "export" ? -r.earnings_pence : r.total_pence) / 100),
            hovertemplate: `${FUEL_NAMES[fuel]} %{y:.2f} £<extra></extra>` });
        }
        if (traces.every((t) => nothing(t.y))) emptyChart("costs-chart", "No costs for these months: no readings stored in them yet.");
        else draw("costs-chart", traces, { barmode: "relative", xaxis: { type: "date", tickformat: "%b %Y" }, yaxis: { title: { text: "£ (export earnings below zero)" } } });
        let html = "";
        for (const fuel of ["electricity", "gas", "export"]) {
          const f = d[fuel];
          if (!f) continue;
          const isExport = fuel === "export";
          const head = isExport ? "<th class='num'>kWh</th><th class='num'>Earned</th><th class='num'>p/kWh</th>" :
            "<th class='num'>kWh</th><th class='num'>Energy</th><th class='num'>Standing</th><th class='num'>Total</th><th class='num'>p/kWh</th>";
          const row = (label, r) => `<tr><td>${label}${r.partial_days.length ? ` <span class="flag" title="${esc(r.partial_days.join(", "))}">partial: ${r.partial_days.length} day${r.partial_days.length > 1 ? "s" : ""}</span>` : ""}</td>` +
            `<td class="num">${r.kwh.toFixed(1)}</td>` + (isExport ? `<td class="num">${pounds(r.earnings_pence)}</td>` :
            `<td class="num">${pounds(r.energy_cost_pence)}</td><td class="num">${pounds(r.standing_charge_pence)}</td><td class="num">${pounds(r.total_pence)}</td>`) +
            `<td class="num">${r.average_p_per_kwh == null ? "—" : r.average_p_per_kwh.toFixed(2)}</td></tr>`;
          const guess = f.estimated_smart_charging;
          html += `<div class="fuel" data-fuel="${fuel}"><h2>${FUEL_NAMES[fuel]}${f.m3 != null ? ` <span class="sub">(${f.m3.toFixed(1)} m³ read)</span>` : ""}</h2>` +
            `<p class="sub" data-period-label>${esc(f.label)}</p><table class="reflow"><thead><tr><th>Month</th>${head}</tr></thead><tbody>` +
            f.buckets.map((r) => row(month(r.from), r)).join("") + `</tbody><tfoot data-pence="${isExport ? f.earnings_pence : f.total_pence}">${row("All", f)}</tfoot></table>` +
            (guess ? `<p class="sub estimated" title="${esc(ESTIMATED_WHY)}">Includes ${pounds(guess.pence)} estimated smart charging (±${pounds(guess.at_stake_pence)}): ${esc(ESTIMATED_WHY)}.</p>` : "") + "</div>";
        }
        html += `<p class="big" id="net">Net ${pounds(d.net_pence)}</p>`;
        $("#statements").innerHTML = html;
        $("#statements").dataset.ready = "1";
      } catch (err) {
        showError(err);
        failedChart("costs-chart", `Could not cost these months: ${err.message}`);
        $("#statements").innerHTML = "";
      }
    }
    return load(params.get("period"));
  }

  // The Bills section of the Costs page: each statement per fuel, Octopus's charge next to octoscope's, the
  // difference and its reason; the balance over time. Reads /api/bills only (no Octopus request).
  async function billsSection() {
    const out = $("#bills-result");
    try {
      const d = await getJSON("/api/bills");
      if (!d.statements.length) {
        out.innerHTML = "<p class='sub'>No statements kept yet: run <code>octoscope bills</code>.</p>";
        emptyChart("bills-chart", "No statements kept yet.");
      } else {
        const rows = d.statements.slice().reverse().map((st) => {
          const period = `${dateOnly(st.from)} – ${dateOnly(st.to)}${st.status === "CLOSED" ? "" : " (open)"}`;
          const notes = st.notes.length ? `<tr class="notes"><td>${esc(period)}</td><td colspan="5" class="sub">${st.notes.map(esc).join("; ")}</td></tr>` : "";
          const lines = st.fuels.map((f, i) => `<tr data-statement="${esc(st.id)}" data-fuel="${f.fuel}" class="${f.matches ? "" : "differs"}">` +
            `<td>${i === 0 && !st.notes.length ? period : ""}</td><td>${FUEL_NAMES[f.fuel]}</td><td class="num">${pounds(f.octopus_pence)}</td><td class="num">${pounds(f.octoscope_pence)}</td>` +
            `<td class="num">${f.difference_pence > 0 ? "+" : ""}${f.difference_pence}p${f.matches ? "" : ' <span class="flag">differs</span>'}</td>` +
            `<td class="wrap">${f.reasons.map((r) => esc(r.text)).join("; ") || (f.matches ? "matches" : "")}</td></tr>`).join("");
          return notes + lines;
        }).join("");
        out.innerHTML = `<p class="big" id="bills-flagged">${d.flagged ? `${d.flagged} statement${d.flagged > 1 ? "s" : ""} differ by more than ${d.tolerance_pence}p on a fuel` : "Every statement matches"}</p>` +
          `<table id="bills-table" class="reflow"><thead><tr><th>Statement</th><th>Fuel</th><th class="num">Octopus</th><th class="num">octoscope</th><th class="num">Difference</th><th>Why</th></tr></thead><tbody>${rows}</tbody></table>`;
        draw("bills-chart", [{ type: "scatter", mode: "lines+markers", line: { shape: "hv", color: color("--accent") }, name: "Balance",
          x: d.balance.map((b) => b.date), y: d.balance.map((b) => b.pence / 100), hovertemplate: "%{x|%d %b %Y}: £%{y:.2f}<extra></extra>" }],
          { xaxis: { type: "date" }, yaxis: { title: { text: "Balance, £ (in credit above zero)" } } });
      }
    } catch (err) {
      out.innerHTML = `<p class="sub">Bills could not be shown: ${esc(err.message)}</p>`;
      failedChart("bills-chart", `Bills could not be shown: ${err.message}`);
    }
    out.dataset.ready = "1";
  }

  // The tariff comparison on the Costs page: a job on the server, started with the button (the first one
  // fetches every tariff's public prices from Octopus), followed with a progress bar, and its answer kept on
  // the server: opening the page shows the last one at once, or reattaches to the job still running.
  function compareSection() {
    const form = $("#compare-form");
    const status = $("#compare-status");
    const out = $("#compare-result");
    const bar = $("#compare-progress");
    const button = form.querySelector("button");
    const duration = (s) => (s < 60 ? `${Math.max(1, Math.round(s))} s` : `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, "0")} s`);
    function render(r, kept) {
      const asked = Object.values(r.requests || {}).reduce((a, n) => a + n, 0);
      status.classList.remove("error");
      const stale = kept && !kept.current ? ` Not current: ${kept.stale_because}; compare again for today's answer.` : "";
      status.textContent = `Compared ${kept ? when(kept.computed_at) : "just now"}: ${r.days} days, ${dateOnly(r.from)} to ${dateOnly(addDays(r.to, -1))}, ` +
        `region ${r.region.letter} (${r.region.name}, from the ${r.region.from}), ${r.payment_method === "DIRECT_DEBIT" ? "Direct Debit" : r.payment_method.toLowerCase().replace(/_/g, " ")} prices inc VAT. ` +
        (kept && kept.reused ? "Kept on the server: Octopus was not asked." : asked ? `Octopus was asked ${asked} time${asked > 1 ? "s" : ""} for prices.` : "Every price was already stored: Octopus was not asked.") + stale;
      status.dataset.kept = kept ? (kept.current ? "current" : "stale") : "";
      let html = "";
      for (const [fuel, mine] of Object.entries(r.current)) {
        const isExport = fuel === "export";
        const rows = r.tariffs.filter((t) => t.fuel === fuel);
        const best = rows[0];
        const headline = best && best.saving_pence > 0
          ? `${esc(best.name)} would have ${isExport ? "earned" : "cost"} <strong>${pounds(best.saving_pence)} ${isExport ? "more" : "less"}</strong> than your ${esc(mine.name)}.`
          : rows.length ? `Your ${esc(mine.name)} ${isExport ? "earned the most" : "was the cheapest"} of the ${rows.length + 1} tariffs compared.`
            : "No other tariff to compare with.";
        const vs = (t) => {
          if (t.saving_pence === 0) return "the same";
          const better = t.saving_pence > 0;
          const word = isExport ? (better ? "more" : "less") : (better ? "cheaper" : "dearer");
          return `<span class="${better ? "better" : "worse"}">${pounds(Math.abs(t.saving_pence))} ${word}</span>`;
        };
        const notes = (t) => {
          const list = [...t.caveats];
          if (t.partial_days) list.push(`${t.partial_days} day${t.partial_days > 1 ? "s" : ""} not fully priced or read`);
          return list.length ? `<div class="sub wrap">${list.map(esc).join("; ")}</div>` : "";
        };
        const row = (t, current) => `<tr data-tariff="${esc(t.tariff)}" data-total="${t.total_pence}"${current ? ' class="current"' : ""}>` +
          `<td class="wrap"><strong>${esc(t.name)}</strong>${current ? " (yours)" : ""} <span class="sub">${esc(t.tariff)}</span>${notes(t)}</td>` +
          (isExport ? `<td class="num">${pounds(t.total_pence)}</td>` :
            `<td class="num">${pounds(t.energy_pence)}</td><td class="num">${pounds(t.standing_pence)}</td><td class="num">${pounds(t.total_pence)}</td>`) +
          `<td class="num">${t.average_pence_per_kwh == null ? "—" : t.average_pence_per_kwh.toFixed(2)}</td>` +
          `<td class="num">${current ? "" : vs(t)}</td></tr>`;
        const head = isExport ? "<th class='num'>Earned</th>" : "<th class='num'>Energy</th><th class='num'>Standing</th><th class='num'>Total</th>";
        html += `<div class="fuel compare" data-fuel="${fuel}"><h3>${FUEL_NAMES[fuel]} <span class="sub">(${kwh(mine.kwh)})</span></h3><p>${headline}</p>` +
          `<table class="reflow"><thead><tr><th>Tariff</th>${head}<th class="num">p/kWh</th><th class="num">vs yours</th></tr></thead><tbody>` +
          row(mine, true) + rows.map((t) => row(t, false)).join("") + "</tbody></table></div>";
      }
      html += `<ul class="caveats">${r.caveats.map((c) => `<li>${esc(c)}</li>`).join("")}</ul>`;
      if (r.problems.length) html += `<p class="error">Some prices could not be fetched: ${esc(r.problems.join("; "))}</p>`;
      out.innerHTML = html;
      out.dataset.ready = "1";
      button.textContent = "Compare again";
    }
    function showProgress(job) {
      const p = job.progress;
      bar.hidden = false;
      if (job.status === "queued") {
        bar.removeAttribute("value");
        status.textContent = "Waiting for another comparison to finish…";
        return;
      }
      if (p.total) { bar.max = p.total; bar.value = p.done; } else { bar.removeAttribute("value"); }
      const left = p.seconds_left == null ? "" : `, about ${duration(p.seconds_left)} left`;
      status.textContent = p.total ? `Comparing… ${p.done} of ${p.total} price lists fetched${left}.` : `Comparing… ${p.step || "starting"}.`;
    }
    async function follow(job) {
      form.months.value = String(job.asked.months);
      button.disabled = true;
      status.classList.remove("error");
      delete out.dataset.ready;
      try {
        while (job.status === "queued" || job.status === "running") {
          showProgress(job);
          await new Promise((resolve) => setTimeout(resolve, 1000));
          job = await getJSON(`/api/compare/${encodeURIComponent(job.job)}`);
        }
        if (job.status === "failed") throw new Error(job.detail);
        render(job.result, job.kept);
      } catch (err) {
        status.classList.add("error");
        status.textContent = "Could not compare: " + err.message;
      } finally {
        bar.hidden = true;
        button.disabled = false;
      }
    }
    async function showKept() {
      // A GET: reads the jobs and the kept answer, never asks Octopus.
      try {
        const found = await getJSON(`/api/compare/kept?months=${form.months.value}`);
        if (found.active.length) return follow(found.active[0]);
        if (found.kept) return render(found.kept.result, found.kept.kept);
      } catch (err) { /* nothing kept to show: the button is still there */ }
    }
    // The period last asked for is remembered in this browser (the answers are kept on the server).
    const MONTHS = "octoscope.compare.months";
    const remember = () => { try { localStorage.setItem(MONTHS, form.months.value); } catch (e) { /* private browsing */ } };
    try {
      const months = localStorage.getItem(MONTHS);
      if (months && form.months.querySelector(`option[value="${CSS.escape(months)}"]`)) form.months.value = months;
    } catch (e) { /* private browsing */ }
    form.months.addEventListener("change", () => { remember(); showKept(); });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      remember();
      button.disabled = true;
      status.classList.remove("error");
      status.textContent = "Comparing…";
      try {
        await follow(await getJSON(`/api/compare?months=${form.months.value}`, "POST"));
      } catch (err) {
        status.classList.add("error");
        status.textContent = "Could not compare: " + err.message;
        button.disabled = false;
      }
    });
    showKept();
  }

  // --- EV ------------------------------------------------------------------------------------------------
  function ev() {
    const form = $("#ev-form");
    form.days.addEventListener("change", load);
    async function load() {
      const days = Number(form.days.value);
      try {
        const [sessions, dispatches] = await Promise.all([
          getJSON(`/api/sessions?days=${days}`), getJSON(`/api/dispatches?days=${Math.min(days, 30)}`),
        ]);
        $("#error").hidden = true;
        const total = sessions.reduce((a, s) => a + s.kwh, 0);
        const pence = sessions.reduce((a, s) => a + s.cost_pence, 0);
        const guessed = sessions.filter((s) => s.estimated);
        const stake = guessed.reduce((a, s) => a + s.at_stake_pence, 0);
        $("#sessions-summary").textContent = `${sessions.length} session${sessions.length === 1 ? "" : "s"} in the last ${days} days: ` +
          `${kwh(total)}, ${pounds(pence)}` + (total ? `, average ${ppk(pence / total)}` : "") +
          (guessed.length ? `; includes ${guessed.length} estimated smart charge${guessed.length === 1 ? "" : "s"} (±${pounds(stake)}): ${ESTIMATED_WHY}` : "");
        const kinds = { smart: color("--good"), estimated: color("--good"), boost: color("--accent2"), none: color("--accent") };
        const kind = (s) => (s.estimated && s.dispatch === "none" ? "estimated" : s.dispatch);
        const labels = { none: "not dispatched", estimated: "smart (estimated)" };
        if (!sessions.length) emptyChart("sessions-chart", `No charging found in the last ${days} days.`);
        else draw("sessions-chart", ["smart", "estimated", "boost", "none"].map((k) => {
          const mine = sessions.filter((s) => kind(s) === k);
          return { type: "bar", name: labels[k] || k, x: mine.map((s) => local(s.start)), y: mine.map((s) => s.kwh),
            marker: { color: kinds[k], pattern: k === "estimated" ? { shape: "/" } : undefined },
            width: 4 * 3600 * 1000, customdata: mine.map((s) => `${time(s.start)}–${time(s.end)} · ${pounds(s.cost_pence)}${s.estimated ? ` estimated ±${pounds(s.at_stake_pence)}` : ""}`),
            hovertemplate: "%{y:.1f} kWh · %{customdata}<extra></extra>" };
        }), { xaxis: { type: "date" }, yaxis: { title: { text: "kWh per session" } }, hovermode: "closest" });
        $("#sessions-table tbody").innerHTML = sessions.slice().reverse().map((s) => `<tr data-dispatch="${esc(s.dispatch)}"><td>${when(s.start)}</td><td>${time(s.end)}</td>` +
          `<td class="num">${s.kwh.toFixed(2)}</td><td class="num">${pounds(s.cost_pence)}${s.estimated ? ` <span class="flag estimated" title="${esc(ESTIMATED_WHY)}">estimated ±${pounds(s.at_stake_pence)}</span>` : ""}</td><td class="num">${s.average_pence_per_kwh == null ? "—" : s.average_pence_per_kwh.toFixed(2)}</td>` +
          `<td title="${esc(DISPATCH_WHY[s.dispatch] || "")}">${esc(DISPATCH[s.dispatch] ?? s.dispatch)}</td></tr>`).join("") ||
          emptyRow(6, "No charging found in these days.");
        const names = dispatches.device_names || {};
        const named = (id) => names[id] || `device ${id.slice(0, 8)}…`;
        const devices = Object.entries(dispatches.devices);
        $("#devices").textContent = devices.length ? devices.map(([id, state]) => `${named(id)}: ${state ? state.toLowerCase().replace(/_/g, " ") : "state unknown"}`).join(" · ") : "No Intelligent Octopus device on this account.";
        $("#dispatches-table tbody").innerHTML = dispatches.dispatches.slice().reverse().map((r) => `<tr><td>${esc(named(r.device_id))}</td><td>${r.kind}</td><td>${when(r.start)}</td><td>${time(r.end)}</td><td>${esc(r.type || "")}</td><td class="num">${r.kwh == null ? "—" : r.kwh.toFixed(2)}</td></tr>`).join("") ||
          emptyRow(6, "No dispatches kept for these days (Octopus keeps about 12 hours of completed ones).");
        $("#sessions-table").dataset.ready = "1";
      } catch (err) {
        showError(err);
        failedChart("sessions-chart", `Could not load the sessions: ${err.message}`);
        $("#sessions-table tbody").innerHTML = emptyRow(6, err.message);
        $("#dispatches-table tbody").innerHTML = emptyRow(6, err.message);
        $("#sessions-table").dataset.ready = "1";
      }
    }
    return load();
  }
  // A session's dispatch in words: the column says something only where a dispatch covers the session.
  const DISPATCH = { smart: "smart charge", boost: "boost", none: "" };
  const DISPATCH_WHY = { none: "no Intelligent Octopus dispatch known for these half-hours" };
  // Why a cost is estimated, and what ± means: the same words on the EV and Costs pages.
  const ESTIMATED_WHY = "charging outside the off-peak hours before octoscope kept a dispatch history, costed at the off-peak price as Octopus most likely dispatched it; ± is what it would cost more at the normal rate (a boost)";

  // --- Live ----------------------------------------------------------------------------------------------
  // The Home Mini's demand from the server's one shared poller: /api/live/dashboard once for what it holds,
  // then every 10-second reading from the SSE stream, which resumes after the newest reading shown (none is
  // missed between the two; a reconnecting EventSource sends Last-Event-ID itself and gets what it missed).
  // The server plays readings out one every 10 s a stated delay behind the meter (Octopus hands them over in
  // batches); the page says how old the figure is, by the server's clock (a demo's may be set, or run fast).
  const WINDOW_S = 300; // the chart: the readings of the five minutes up to the newest
  const STEP_S = 10;
  const STATES = {
    ok: "Live", starting: "Starting", stale: "Stale: no new readings", rate_limited: "Rate limited by Octopus",
    no_device: "No Home Mini", token_error: "Octopus refused the credentials", error: "Error",
  };
  const fClock = fmt({ hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const clock = (iso) => fClock.format(new Date(iso));
  // Small sums as people say them ("0.42p", "12.3p"), pounds from £1.
  const pence = (p) => (p == null ? "—" : Math.abs(p) < 100 ? `${p.toFixed(Math.abs(p) < 10 ? 2 : 1)}p` : pounds(p));
  const readingId = (r) => Date.parse(r.time) / 1000; // the stream's event id: the reading's epoch seconds
  // The UTC offset an ISO time carries ("+01:00" in summer), in ms.
  function offsetOf(iso) {
    const m = /([+-])(\d\d):(\d\d)$/.exec(iso);
    return m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60000 : 0;
  }
  // An instant as wall-clock time at an offset. The chart lays its five minutes out at the newest reading's
  // offset, so that the axis runs straight on through a clock change; the hover gives each reading's own time.
  const wallAt = (ms, offset) => new Date(ms + offset).toISOString().slice(0, 19).replace("T", " ");

  async function live() {
    const opened = Date.parse(body.dataset.now); // the server's clock when it made this page
    const demand = $("#demand");
    const costCard = $("#live-cost");
    const statusCard = $("#live-status");
    const chart = $("#live-chart");
    const held = []; // the readings shown, oldest first: five minutes' worth
    let newest = null;
    let state = null;
    const since = { pence: 0, kwh: 0, readings: 0, unpriced: 0 };

    // "Since you opened": the readings shown after the page opened (the stream's), not those timed after it,
    // which the play-out delay would hold back for a couple of minutes.
    function accept(r, fresh) {
      const id = readingId(r);
      if (newest && id <= readingId(newest)) return false; // already shown: each reading once
      held.push(r);
      newest = r;
      while (readingId(held[0]) <= id - WINDOW_S) held.shift();
      if (fresh) {
        since.readings += 1;
        since.kwh += r.kwh;
        if (r.pence == null) since.unpriced += 1;
        else since.pence += r.pence;
      }
      return true;
    }
    function showReading() {
      const lvl = $('[data-field="level"]', demand);
      if (!newest) {
        set(demand, "watts", "—");
        set(demand, "at", state === "no_device" ? "no Home Mini to read" : "no reading yet");
        lvl.hidden = true;
        return;
      }
      const w = newest.demand_w;
      set(demand, "watts", `${Math.round(w).toLocaleString("en-GB")} W`);
      set(demand, "kw", `${(w / 1000).toFixed(3)} kW`);
      lvl.hidden = false;
      lvl.textContent = newest.level;
      lvl.className = `level level-${newest.level}`;
      set(demand, "at", `at ${clock(newest.time)}${newest.stale ? ", arrived late" : ""}`);
      Object.assign(demand.dataset, { level: newest.level, watts: String(w), time: newest.time });
    }
    function showSince() {
      Object.assign(costCard.dataset, { sincePence: String(since.pence), sinceReadings: String(since.readings) });
      set(costCard, "since", since.readings ? pence(since.pence) : "—");
      set(costCard, "since-detail", `Since you opened this page at ${clock(body.dataset.now)}: ` +
        (since.readings ? `${since.kwh.toFixed(3)} kWh in ${since.readings} reading${since.readings > 1 ? "s" : ""}` : "no reading yet") +
        (since.unpriced ? `, ${since.unpriced} without a known unit rate (not costed)` : "") + ".");
    }
    function showCost(c) {
      const figure = (v) => (v == null ? "" : String(v));
      Object.assign(costCard.dataset, { perHour: figure(c.cost_per_hour_pence), day: figure(c.projected_day_pence), month: figure(c.projected_month_pence) });
      set(costCard, "per-hour", c.cost_per_hour_pence == null ? "—" : `${pence(c.cost_per_hour_pence)} an hour`);
      set(costCard, "rate", c.rate_pence_per_kwh == null ? "no unit rate known for now" : `at ${ppk(c.rate_pence_per_kwh)}, the unit rate now`);
      set(costCard, "day", c.projected_day_pence == null ? "—" : `~${pence(c.projected_day_pence)}`);
      set(costCard, "month", c.projected_month_pence == null ? "—" : `~${pence(c.projected_month_pence)}`);
      set(costCard, "standing", c.standing_charge_pence_per_day == null ? "" : ` The standing charge, ${pence(c.standing_charge_pence_per_day)} a day, comes on top.`);
    }
    function showStatus(s) {
      state = s.state;
      statusCard.dataset.state = s.state;
      set(statusCard, "state", STATES[s.state] || s.state);
      set(statusCard, "message", s.message || "");
      // Failures say in their message when the next poll is; a feed that works says when the next readings come.
      const next = s.next_poll_at && (s.state === "ok" || s.state === "stale");
      set(statusCard, "next", next ? `Next poll at ${clock(s.next_poll_at)}.` : "");
    }
    function drawChart() {
      const offset = newest ? offsetOf(newest.time) : 0;
      const end = newest ? (readingId(newest) + STEP_S) * 1000 : opened;
      const empty = state === "no_device" ? "No Home Mini on this account" : "No readings yet";
      draw("live-chart", [{
        type: "scatter", mode: "lines+markers", name: "demand", x: held.map((r) => wallAt(Date.parse(r.time), offset)),
        y: held.map((r) => r.demand_w), customdata: held.map((r) => clock(r.time) + (r.stale ? ", arrived late" : "")),
        line: { color: color("--accent"), width: 2 }, marker: { size: 7, color: held.map((r) => color(`--${r.level}`)) },
        hovertemplate: "%{y:,.0f} W at %{customdata}<extra></extra>",
      }], {
        xaxis: { type: "date", range: [wallAt(end - WINDOW_S * 1000, offset), wallAt(end, offset)], dtick: 60000, tickformat: "%H:%M" },
        yaxis: { title: { text: "W" }, rangemode: "tozero" }, showlegend: false, hovermode: "closest",
        annotations: held.length ? [] : [{ text: empty, xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false, font: { size: 16 } }],
      });
    }
    // The cost at this demand and the projections come from the server, asked again after new readings
    // (one request at a time, however many readings arrive meanwhile).
    let asking = false;
    let askAgain = false;
    async function refresh() {
      if (asking) { askAgain = true; return; }
      asking = true;
      try {
        do {
          askAgain = false;
          const d = await getJSON("/api/live/dashboard?minutes=1");
          showCost(d.cost);
          if (d.status.state === state) showStatus(d.status); // changes come by the stream, in order
        } while (askAgain);
      } catch (err) {
        set(costCard, "rate", `could not update the cost: ${err.message}`);
      } finally {
        asking = false;
      }
    }

    const d = await getJSON("/api/live/dashboard");
    // The server's clock now, from its answer and this page's own monotonic time since.
    const asked = performance.now();
    const serverNow = () => Date.parse(d.now) + (performance.now() - asked) * (d.clock_speed || 0);
    function showAge() {
      if (!newest) { set(demand, "as-of", ""); return; }
      const end = Date.parse(newest.time) + STEP_S * 1000;
      const ago = Math.max(0, Math.round((serverNow() - end) / 1000));
      set(demand, "as-of", `as of ${clock(new Date(end).toISOString())}, ${ago} s ago`);
      demand.dataset.ago = String(ago);
    }
    demand.dataset.playout = String(d.playout_seconds);
    set(demand, "playout", d.playout_seconds > 0
      ? `Shown ${Math.round(d.playout_seconds)} s behind the meter: Octopus hands readings over in batches, and each is played out at its own 10-second step.`
      : "Shown as Octopus hands readings over, in batches.");
    showStatus(d.status);
    for (const r of [...d.recent, ...(d.current ? [d.current] : [])]) accept(r, false);
    showReading();
    showAge();
    const ticker = setInterval(showAge, 1000);
    showCost(d.cost);
    showSince();
    drawChart();

    const source = new EventSource(BASE + "/api/live/stream" + (newest ? `?resume=${readingId(newest)}` : ""));
    let updates = 0;
    source.addEventListener("reading", (e) => {
      if (!accept(JSON.parse(e.data), true)) return;
      showReading();
      showAge();
      showSince();
      drawChart();
      chart.dataset.updates = String(++updates);
      refresh();
    });
    source.addEventListener("status", (e) => {
      showStatus(JSON.parse(e.data));
      if (!newest) { showReading(); drawChart(); }
    });
    source.addEventListener("resync", () => set(statusCard, "connection", "This page fell behind the stream: catching up…"));
    source.addEventListener("open", () => {
      statusCard.dataset.connection = "open";
      set(statusCard, "connection", "");
    });
    source.addEventListener("error", () => {
      const closed = source.readyState === EventSource.CLOSED;
      statusCard.dataset.connection = closed ? "closed" : "reconnecting";
      set(statusCard, "connection", closed ? "The live stream was refused: reload the page to try again."
        : "Connection to octoscope lost: reconnecting, and catching up on what was missed…");
    });
    window.addEventListener("pagehide", () => { source.close(); clearInterval(ticker); });
  }

  // --- Status --------------------------------------------------------------------------------------------
  async function statusPage() {
    const d = await getJSON("/api/status");
    $("#series-table tbody").innerHTML = (d.series.map((s) => `<tr data-series="${esc(s.series)}"><td>${esc(s.series)}${s.current_property ? "" : " <span class='sub'>(past home)</span>"}</td>` +
      `<td>${esc(s.unit || "?")}</td><td>${long(s.first_interval)}</td><td>${long(s.last_interval)}</td><td class="num">${s.rows.toLocaleString("en-GB")}</td>` +
      `<td class="num">${s.coverage_pct == null ? "—" : s.coverage_pct.toFixed(2) + "%"}</td><td class="num">${s.gap_count}${s.missing_half_hours ? ` (${s.missing_half_hours} half-hours)` : ""}</td><td>${when(s.last_sync)}</td></tr>`).join("")) ||
      emptyRow(8, "Nothing stored yet: octoscope sync fetches the account and its readings.");
    $("#gaps").innerHTML = d.series.filter((s) => s.gaps.length).map((s) => `<details><summary>Gaps in ${esc(s.series)}</summary><ul>` +
      s.gaps.map(([a, b]) => `<li>${long(a)} to ${long(b)}</li>`).join("") + "</ul></details>").join("");
    const jobs = d.scheduler ? d.scheduler.jobs : [];
    $("#jobs-table tbody").innerHTML = jobs.map((j) => `<tr data-job="${j.job}"><td title="${esc(j.what)}">${j.job}</td>` +
      `<td>${j.last_run ? when(j.last_run.started) : "not yet"}</td><td title="${esc(j.last_run ? j.last_run.message : "")}">${j.last_run ? `${j.last_run.outcome}${j.last_run.message ? ": " + esc(j.last_run.message) : ""}` : ""}</td>` +
      `<td>${j.due ? "now" : j.next_run ? when(j.next_run) : "not needed"}</td><td>${esc(j.why)}</td></tr>`).join("") ||
      emptyRow(5, "The scheduler is off: octoscope serve runs it when an API key is configured.");
    const b = d.budget_this_hour;
    $("#budget").innerHTML = b ? Object.entries(b).map(([api, v]) => `<p><label>${api === "dispatches" ? "Dispatch queries" : api === "rest" ? "REST" : "GraphQL"}: ${v.used} of ${v.limit} ` +
      `<meter min="0" max="${v.limit}" value="${v.used}" high="${v.limit * 0.8}"></meter></label></p>`).join("") : "<p class='sub'>No API key configured.</p>";
    $("#jobs-table").dataset.ready = "1";
  }

  document.querySelectorAll(".chart").forEach((el) => { el.dataset.state = "loading"; });
  document.querySelectorAll("table > tbody:empty").forEach((tb) => {
    tb.innerHTML = emptyRow(tb.closest("table").querySelectorAll("thead th").length, "Loading…");
  });
  const PAGES = { overview, usage, prices, costs, ev, live, status: statusPage };
  // A page whose data could not be had says so in each chart and table still waiting, not just at the foot.
  function failed(err) {
    showError(err);
    document.querySelectorAll('.chart[data-state="loading"]').forEach((el) => failedChart(el.id, `Could not load: ${err.message}`));
    document.querySelectorAll("td.empty").forEach((td) => { if (td.textContent === "Loading…") td.textContent = err.message; });
  }
  Promise.resolve().then(PAGES[body.dataset.page]).then(() => { body.dataset.ready = "1"; }, (err) => { failed(err); body.dataset.ready = "1"; });
})();
