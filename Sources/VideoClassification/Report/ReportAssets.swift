/// The page of `vidclass report`: HTML, style and script, written beside the data. Plain
/// JavaScript and CSS, no libraries and no network, so the folder opens from disk.
enum ReportAssets {
    /// `index.html`.
    static func html(title: String) -> String {
        let escaped = title.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        return #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>\#(escaped)</title>
<link rel="stylesheet" href="report.css">
</head>
<body>
<header>
<h1 id="title">\#(escaped)</h1>
<p id="meta"></p>
<nav id="tabs"></nav>
</header>
<main>
<div id="warnings" class="warnings" hidden></div>
<section id="labels-view" hidden></section>
<section id="evaluation-view" hidden></section>
<section id="timelines-view" hidden></section>
</main>
<footer id="corrections-bar">
<span id="correction-count">0 corrections</span>
<button id="download-corrections" disabled>Download corrections.csv</button>
<button id="download-labels" title="every labelled clip with its reviewed label, excluded ones left out">Download reviewed labels.csv</button>
<button id="clear-corrections" disabled>Clear corrections</button>
</footer>
<script src="data.js"></script>
<script src="report.js"></script>
</body>
</html>
"""#
    }

    /// `report.css`.
    static let style = #"""
:root { --fg: #1d232b; --muted: #5d6875; --line: #d8dde3; --bg: #ffffff; --panel: #f4f6f8; --accent: #1f6feb; --bad: #c62828; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 16px 24px 0; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 20px; }
#meta { margin: 0 0 10px; color: var(--muted); }
nav#tabs button { border: 1px solid var(--line); border-bottom: none; background: var(--panel); padding: 6px 14px; margin-right: 4px; border-radius: 6px 6px 0 0; cursor: pointer; font: inherit; }
nav#tabs button.active { background: var(--bg); font-weight: 600; position: relative; top: 1px; }
main { padding: 16px 24px 80px; }
h2 { font-size: 17px; margin: 18px 0 8px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
.summary { color: var(--muted); margin: 4px 0 12px; }
.warnings { background: #fff4e5; border: 1px solid #f0c36d; padding: 8px 12px; border-radius: 6px; }
.filters { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items: end; background: var(--panel); padding: 10px 12px; border-radius: 6px; margin: 10px 0; }
.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
.filters input, .filters select { font: inherit; padding: 3px 6px; min-width: 90px; }
.filters input[type=number] { width: 90px; min-width: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: middle; }
th { background: var(--panel); position: sticky; top: 0; z-index: 1; font-weight: 600; white-space: nowrap; }
th.sortable { cursor: pointer; user-select: none; }
th.sortable:hover { color: var(--accent); }
th.sorted-asc::after { content: " ▲"; font-size: 10px; }
th.sorted-desc::after { content: " ▼"; font-size: 10px; }
td.label { white-space: nowrap; }
td.path { max-width: 340px; overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
td.path a { color: var(--fg); text-decoration: none; }
td.path a:hover { text-decoration: underline; color: var(--accent); }
table.per-class { width: auto; min-width: 420px; }
th.num { text-align: right; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scorebar { display: inline-block; height: 6px; background: var(--accent); border-radius: 3px; margin-left: 6px; vertical-align: middle; }
td.strip { max-width: 560px; }
.stripbox { height: 70px; max-width: 560px; overflow-x: auto; overflow-y: hidden; }
img.strip { height: 52px; display: block; border-radius: 3px; }
.status-error, .status-timeout { color: var(--bad); font-weight: 600; }
.reason { color: var(--bad); font-size: 12px; }
.chip { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: baseline; }
tr.corrected td { background: #eef6ff; }
tr.excluded td { background: #f3f3f3; color: #888; text-decoration: line-through; }
tr.excluded td select, tr.excluded td img { text-decoration: none; opacity: .6; }
select.correction { font: inherit; font-size: 12px; }
.pager { display: flex; gap: 10px; align-items: center; margin: 10px 0; }
.pager button { font: inherit; padding: 3px 10px; }
svg.chart text { font-size: 12px; fill: var(--fg); }
svg.chart .bar { cursor: pointer; }
svg.chart .bar:hover rect.fill { opacity: .8; }
.metrics { display: flex; gap: 24px; flex-wrap: wrap; margin: 8px 0 12px; }
.metric { background: var(--panel); padding: 8px 14px; border-radius: 6px; }
.metric b { display: block; font-size: 20px; }
table.confusion { width: auto; }
table.confusion th, table.confusion td { text-align: center; border: 1px solid var(--line); min-width: 54px; }
table.confusion th.rowhead { text-align: left; }
table.confusion td button { all: unset; display: block; width: 100%; padding: 8px 0; cursor: pointer; font-variant-numeric: tabular-nums; }
table.confusion td.selected { outline: 3px solid var(--accent); outline-offset: -3px; }
table.confusion caption { caption-side: top; text-align: left; color: var(--muted); padding-bottom: 6px; }
.timeline { margin: 10px 0 18px; }
.timeline .name { font-family: ui-monospace, monospace; font-size: 12px; margin-bottom: 3px; }
.track { position: relative; height: 26px; background: var(--panel); border-radius: 3px; overflow: hidden; }
.seg { position: absolute; top: 0; bottom: 0; }
.axis { position: relative; height: 16px; font-size: 11px; color: var(--muted); }
.axis span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.legend { margin: 6px 0; }
.legend > span { margin-right: 14px; font-size: 12px; }
footer#corrections-bar { position: fixed; left: 0; right: 0; bottom: 0; background: #1d232b; color: #fff; padding: 8px 24px; display: flex; gap: 12px; align-items: center; z-index: 5; }
footer#corrections-bar button { font: inherit; padding: 4px 12px; cursor: pointer; }
footer#corrections-bar button:disabled { cursor: default; opacity: .5; }
.empty { color: var(--muted); padding: 12px 0; }
"""#

    /// `report.js`: reads `window.VIDCLASS_REPORT` from `data.js`.
    static let script = #"""
// The vidclass report page: reads window.VIDCLASS_REPORT (data.js) and draws it. Plain
// JavaScript, no libraries, no network: the folder opens from disk.
(function () {
  "use strict";
  const DATA = window.VIDCLASS_REPORT;
  if (!DATA) {
    document.addEventListener("DOMContentLoaded", () => {
      document.body.textContent = "data.js is missing or damaged: this page needs the folder vidclass report wrote.";
    });
    return;
  }
  const PAGE_SIZE = 100;
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const svgNS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(svgNS, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children.flat()) if (child) node.append(child);
    return node;
  }
  const pct = (x) => (x * 100).toFixed(1) + "%";
  const colorCache = new Map();
  function color(label) {
    if (!colorCache.has(label)) {
      const i = Math.max(0, DATA.classes.indexOf(label));
      colorCache.set(label, `hsl(${(i * 137.508) % 360}, 62%, 52%)`);
    }
    return colorCache.get(label);
  }
  function fileURL(abs) {
    return "file://" + abs.split("/").map(encodeURIComponent).join("/");
  }
  function strip(item) {
    if (item.thumb) {
      const frames = (item.frames || []).map((f) => "#" + f.index).join(" ");
      // A box of fixed height, so a strip that loads (and its scroll bar) never moves the page.
      return el("div", { class: "stripbox" },
        el("img", { class: "strip", src: item.thumb, loading: "lazy", alt: "frames " + frames, title: "frames the model used: " + frames }));
    }
    if (item.thumbError) return el("span", { class: "reason", text: "no thumbnails: " + item.thumbError });
    return "";
  }

  // ---- Corrections: kept in the page (and localStorage), downloaded as CSV ----
  const storageKey = "vidclass-report:" + DATA.id;
  let corrections = {};
  try { corrections = JSON.parse(localStorage.getItem(storageKey) || "{}"); } catch (e) { corrections = {}; }
  // Only files of this report: an older build of the same inputs may have held others.
  const known = new Set(DATA.items.map((i) => i.abs));
  for (const e of DATA.evaluations) for (const c of e.clips) if (c.start === undefined || c.start === null) known.add(c.abs);
  for (const abs of Object.keys(corrections)) if (!known.has(abs)) delete corrections[abs];
  function saveCorrections() {
    try { localStorage.setItem(storageKey, JSON.stringify(corrections)); } catch (e) { /* private mode: keep in memory */ }
    const n = Object.keys(corrections).length;
    $("correction-count").textContent = n + (n === 1 ? " correction" : " corrections");
    $("download-corrections").disabled = n === 0;
    $("clear-corrections").disabled = n === 0;
  }
  function correctionSelect(abs, current) {
    const select = el("select", { class: "correction", "data-path": abs, "aria-label": "correct the label" });
    select.append(el("option", { value: "", text: current ? "✓ " + current : "—" }));
    for (const label of DATA.classes) if (label !== current) select.append(el("option", { value: label, text: "→ " + label }));
    select.append(el("option", { value: "exclude", text: "✗ exclude" }));
    const existing = corrections[abs];
    if (existing && existing.label === current) delete corrections[abs];
    else if (existing) select.value = existing.label;
    select.addEventListener("change", () => {
      if (select.value === "") delete corrections[abs];
      else corrections[abs] = { label: select.value, was: current || "" };
      saveCorrections();
      const row = select.closest("tr");
      if (row) markRow(row, abs);
      for (const other of document.querySelectorAll("select.correction")) {
        if (other !== select && other.dataset.path === abs) { other.value = select.value; const r = other.closest("tr"); if (r) markRow(r, abs); }
      }
    });
    return select;
  }
  function markRow(row, abs) {
    const c = corrections[abs];
    row.classList.toggle("corrected", !!c && c.label !== "exclude");
    row.classList.toggle("excluded", !!c && c.label === "exclude");
  }
  function csvField(value) {
    const s = String(value);
    return /[",\r\n]|^\s|\s$/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function download(name, lines) {
    const blob = new Blob([lines.map((l) => l.map(csvField).join(",")).join("\n") + "\n"], { type: "text/csv" });
    const a = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 2000);
  }
  function downloadCorrections() {
    const rows = Object.keys(corrections).sort().map((abs) => [abs, corrections[abs].label]);
    download("corrections.csv", [["path", "label"]].concat(rows));
  }
  function downloadReviewed() {
    // A file in both: the evaluation's true label wins over a model's label.
    const final = new Map();
    for (const item of DATA.items) if (item.status === "ok" && item.label) final.set(item.abs, item.label);
    for (const e of DATA.evaluations) for (const c of e.clips) if (c.start === undefined || c.start === null) final.set(c.abs, c.truth);
    const rows = [];
    for (const [abs, label] of final) {
      const c = corrections[abs];
      if (c && c.label === "exclude") continue;
      rows.push([abs, c ? c.label : label]);
    }
    rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    download("labels.csv", [["path", "label"]].concat(rows));
  }

  // ---- Header and tabs ----
  function header() {
    document.title = DATA.title;
    $("title").textContent = DATA.title;
    $("meta").textContent = DATA.sources.map((s) => `${s.path} (${s.kind}, ${s.count})`).join(" · ") + ` · vidclass ${DATA.version} · ${DATA.generated}`;
    const views = [];
    if (DATA.items.length) views.push(["labels", "Labels (" + DATA.items.length + ")"]);
    if (DATA.evaluations.length) views.push(["evaluation", "Evaluation"]);
    if (DATA.timelines.length) views.push(["timelines", "Timelines (" + DATA.timelines.length + ")"]);
    const nav = $("tabs");
    for (const [name, text] of views) {
      nav.append(el("button", { id: "tab-" + name, "data-view": name, text, onclick: () => show(name) }));
    }
    if (DATA.warnings.length) {
      $("warnings").hidden = false;
      $("warnings").append(el("b", { text: "Warnings" }), el("ul", {}, DATA.warnings.map((w) => el("li", { text: w }))));
    }
    if (views.length) show(views[0][0]);
    else $("labels-view").replaceWith(el("p", { class: "empty", text: "The results hold nothing to show." }));
  }
  function show(name) {
    for (const view of ["labels", "evaluation", "timelines"]) {
      $(view + "-view").hidden = view !== name;
      const tab = $("tab-" + view);
      if (tab) tab.classList.toggle("active", view === name);
    }
  }

  // ---- Label results ----
  const state = { label: "", status: "", min: "", max: "", text: "", sort: "path", dir: 1, page: 0 };
  function labelView() {
    if (!DATA.items.length) return;
    const view = $("labels-view");
    const counts = {}, statusCounts = { ok: 0, error: 0, timeout: 0 };
    for (const item of DATA.items) {
      statusCounts[item.status] = (statusCounts[item.status] || 0) + 1;
      if (item.status === "ok" && item.label) counts[item.label] = (counts[item.label] || 0) + 1;
    }
    view.append(el("p", { class: "summary", id: "label-summary",
      text: `${DATA.items.length} files: ${statusCounts.ok} labelled, ${statusCounts.error} errors, ${statusCounts.timeout} timed out` }));
    view.append(el("h2", { text: "Labels" }), chart(counts));
    const labelSelect = el("select", { id: "filter-label" }, el("option", { value: "", text: "all labels" }),
      Object.keys(counts).sort().map((l) => el("option", { value: l, text: `${l} (${counts[l]})` })));
    const statusSelect = el("select", { id: "filter-status" }, el("option", { value: "", text: "any status" }),
      ["ok", "error", "timeout"].map((s) => el("option", { value: s, text: `${s} (${statusCounts[s] || 0})` })));
    const min = el("input", { id: "filter-min", type: "number", min: "0", max: "1", step: "0.01", placeholder: "0" });
    const max = el("input", { id: "filter-max", type: "number", min: "0", max: "1", step: "0.01", placeholder: "1" });
    const text = el("input", { id: "filter-text", type: "search", placeholder: "part of the path" });
    const onFilter = () => {
      state.label = labelSelect.value; state.status = statusSelect.value; state.min = min.value; state.max = max.value;
      state.text = text.value.toLowerCase(); state.page = 0; drawTable();
    };
    for (const input of [labelSelect, statusSelect, min, max, text]) input.addEventListener("input", onFilter);
    view.append(el("h2", { text: "Files" }), el("div", { class: "filters" },
      el("label", {}, "label", labelSelect), el("label", {}, "status", statusSelect),
      el("label", {}, "score at least", min), el("label", {}, "score at most", max), el("label", {}, "path", text),
      el("span", { id: "match-count", class: "summary" })));
    const columns = [["path", "file"], ["label", "label"], ["score", "score"], ["status", "status"], [null, "frames the model used"], [null, "correction"]];
    const head = el("tr", {}, columns.map(([key, name]) => {
      const th = el("th", { text: name, class: key ? "sortable" : null, "data-sort": key });
      if (key) th.addEventListener("click", () => {
        state.dir = state.sort === key ? -state.dir : (key === "score" ? -1 : 1); state.sort = key; state.page = 0; drawTable();
      });
      return th;
    }));
    view.append(el("table", { id: "label-table" }, el("thead", {}, head), el("tbody", { id: "label-rows" })));
    view.append(el("div", { class: "pager" },
      el("button", { id: "page-prev", text: "← previous", onclick: () => { state.page--; drawTable(); } }),
      el("span", { id: "page-info" }),
      el("button", { id: "page-next", text: "next →", onclick: () => { state.page++; drawTable(); } })));
    const failed = DATA.items.filter((i) => i.status !== "ok");
    view.append(el("h2", { text: `Errors (${failed.length})` }));
    if (failed.length) {
      view.append(el("table", { id: "error-table" },
        el("thead", {}, el("tr", {}, el("th", { text: "file" }), el("th", { text: "status" }), el("th", { text: "reason" }))),
        el("tbody", {}, failed.map((i) => el("tr", { class: "error-row" },
          el("td", { class: "path" }, el("a", { href: fileURL(i.abs), text: i.path })),
          el("td", { class: "status-" + i.status, text: i.status }), el("td", { class: "reason", text: i.error || "" }))))));
    } else {
      view.append(el("p", { class: "empty", text: "Every file was labelled." }));
    }
    drawTable();
  }
  function chart(counts) {
    const labels = Object.keys(counts).sort((a, b) => counts[b] - counts[a] || (a < b ? -1 : 1));
    const most = Math.max(1, ...labels.map((l) => counts[l]));
    const nameWidth = Math.min(260, 16 + 7.5 * Math.max(4, ...labels.map((l) => l.length)));
    const barMax = 420, rowHeight = 24, height = Math.max(1, labels.length) * rowHeight + 8;
    const chartSvg = svg("svg", { class: "chart", id: "label-chart", width: nameWidth + barMax + 70, height, role: "img",
      "aria-label": "files per label" });
    labels.forEach((label, i) => {
      const y = 4 + i * rowHeight, w = Math.max(2, (counts[label] / most) * barMax);
      chartSvg.append(svg("g", { class: "bar", "data-label": label, onclick: () => {
        $("filter-label").value = label; $("filter-label").dispatchEvent(new Event("input"));
      } },
        svg("title", { text: `${label}: ${counts[label]} files (click to filter)` }),
        svg("text", { x: nameWidth - 8, y: y + 15, "text-anchor": "end", text: label }),
        svg("rect", { class: "fill", x: nameWidth, y: y + 2, width: w, height: rowHeight - 6, rx: 3, fill: color(label) }),
        svg("text", { x: nameWidth + w + 6, y: y + 15, text: String(counts[label]) })));
    });
    if (!labels.length) chartSvg.append(svg("text", { x: 4, y: 16, text: "no file was labelled" }));
    return chartSvg;
  }
  function filtered() {
    const min = state.min === "" ? -Infinity : Number(state.min), max = state.max === "" ? Infinity : Number(state.max);
    const rows = DATA.items.filter((i) =>
      (!state.label || i.label === state.label) && (!state.status || i.status === state.status) &&
      (state.min === "" && state.max === "" || (i.score !== undefined && i.score !== null && i.score >= min && i.score <= max)) &&
      (!state.text || i.path.toLowerCase().includes(state.text)));
    const key = state.sort, dir = state.dir;
    rows.sort((a, b) => {
      let x = a[key], y = b[key];
      if (x === undefined || x === null) x = key === "score" ? -1 : "";
      if (y === undefined || y === null) y = key === "score" ? -1 : "";
      return (x < y ? -1 : x > y ? 1 : (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) * dir;
    });
    return rows;
  }
  function drawTable() {
    const rows = filtered();
    const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
    state.page = Math.min(Math.max(0, state.page), pages - 1);
    const first = state.page * PAGE_SIZE, shown = rows.slice(first, first + PAGE_SIZE);
    const body = $("label-rows");
    body.replaceChildren(...shown.map((item) => {
      const row = el("tr", { class: "row", "data-path": item.abs, "data-label": item.label || "", "data-status": item.status },
        el("td", { class: "path" }, el("a", { href: fileURL(item.abs), title: item.abs, text: item.path })),
        el("td", { class: "label" }, item.label ? el("span", { class: "chip", style: `background:${color(item.label)}` }) : null, item.label || ""),
        el("td", { class: "num" }, item.score === undefined || item.score === null ? "" : pct(item.score),
          item.score ? el("span", { class: "scorebar", style: `width:${Math.round(item.score * 40)}px` }) : null),
        el("td", { class: "status-" + item.status }, item.status, item.error ? el("div", { class: "reason", text: item.error }) : null),
        el("td", { class: "strip" }, strip(item)),
        el("td", {}, item.status === "ok" ? correctionSelect(item.abs, item.label) : ""));
      markRow(row, item.abs);
      return row;
    }));
    $("match-count").textContent = `${rows.length} of ${DATA.items.length} files`;
    $("page-info").textContent = rows.length ? `rows ${first + 1}–${first + shown.length} of ${rows.length} · page ${state.page + 1} of ${pages}` : "no file matches";
    $("page-prev").disabled = state.page === 0;
    $("page-next").disabled = state.page >= pages - 1;
    for (const th of document.querySelectorAll("#label-table th.sortable")) {
      th.classList.toggle("sorted-asc", th.dataset.sort === state.sort && state.dir === 1);
      th.classList.toggle("sorted-desc", th.dataset.sort === state.sort && state.dir === -1);
    }
  }

  // ---- Evaluations ----
  function evaluationView() {
    const view = $("evaluation-view");
    DATA.evaluations.forEach((e, n) => {
      const section = el("section", { class: "evaluation", id: "evaluation-" + n });
      section.append(el("h2", { text: "Evaluation: " + DATA.sources[e.source].path }),
        el("div", { class: "metrics" },
          el("div", { class: "metric", id: `top1-${n}` }, el("b", { text: pct(e.top1) }), "top-1 accuracy"),
          el("div", { class: "metric" }, el("b", { text: pct(e.meanClassAccuracy) }), "mean class accuracy"),
          el("div", { class: "metric" }, el("b", { text: pct(e.top5) }), "top-5 accuracy"),
          el("div", { class: "metric" }, el("b", { text: String(e.count) }), "clips")));
      section.append(el("h3", { text: "Per class" }), el("table", { class: "per-class" },
        el("thead", {}, el("tr", {}, ["class", "precision", "recall", "F1", "clips"].map((h, i) => el("th", { text: h, class: i ? "num" : null })))),
        el("tbody", {}, e.perClass.map((c) => el("tr", {},
          el("td", {}, el("span", { class: "chip", style: `background:${color(c.label)}` }), c.label),
          el("td", { class: "num", text: c.precision.toFixed(3) }), el("td", { class: "num", text: c.recall.toFixed(3) }),
          el("td", { class: "num", text: c.f1.toFixed(3) }), el("td", { class: "num", text: String(c.support) }))))));
      const most = Math.max(1, ...e.confusion.flat());
      const panel = el("div", { class: "cell-clips", id: `cell-clips-${n}` });
      const table = el("table", { class: "confusion", id: `confusion-${n}` },
        el("caption", { text: "rows: true class · columns: predicted class · click a cell for its clips" }),
        el("thead", {}, el("tr", {}, el("th", { text: "true \\ predicted" }), e.labels.map((l) => el("th", { text: l })))),
        el("tbody", {}, e.confusion.map((row, i) => el("tr", {}, el("th", { class: "rowhead", text: e.labels[i] }),
          row.map((count, j) => {
            const shade = Math.round(255 - (count / most) * 170);
            const td = el("td", { class: "cell", "data-truth": e.labels[i], "data-predicted": e.labels[j],
              style: `background:rgb(${i === j ? shade : 255},${shade},${i === j ? 255 : shade})` },
              el("button", { text: String(count), title: `${count} clips of ${e.labels[i]} predicted ${e.labels[j]}`,
                onclick: () => {
                  for (const s of table.querySelectorAll("td.selected")) s.classList.remove("selected");
                  td.classList.add("selected");
                  const clips = e.clips.filter((c) => c.truth === e.labels[i] && c.predicted === e.labels[j]);
                  panel.replaceChildren(el("h3", { text: `${clips.length} clips: true ${e.labels[i]}, predicted ${e.labels[j]}` }),
                    clipTable(clips, `cell-table-${n}`));
                } }));
            return td;
          })))));
      section.append(el("h3", { text: "Confusion matrix" }), table, e.picture ? el("p", {}, el("a", { href: e.picture, text: "the matrix as SVG" })) : null, panel);
      const wrong = e.clips.filter((c) => c.truth !== c.predicted).sort((a, b) => b.confidence - a.confidence);
      section.append(el("h3", { text: `Misclassified (${wrong.length})` }),
        wrong.length ? clipTable(wrong, `misclassified-${n}`) : el("p", { class: "empty", text: "None." }));
      view.append(section);
    });
  }
  function clipTable(clips, id) {
    return el("table", { id, class: "clips" },
      el("thead", {}, el("tr", {}, ["file", "true", "predicted", "confidence", "frames the model used", "correct the true label"].map((h) => el("th", { text: h })))),
      el("tbody", {}, clips.map((c) => {
        // A stretch of a long video is one of many clips of its file: its label is corrected in
        // the annotation file, not here.
        const stretch = c.start !== undefined && c.start !== null;
        const name = stretch ? `${c.path} @ ${c.start.toFixed(2)}–${c.end.toFixed(2)} s` : c.path;
        const row = el("tr", { class: "clip", "data-path": stretch ? `${c.abs}@${c.start}` : c.abs },
          el("td", { class: "path" }, el("a", { href: fileURL(c.abs), title: c.abs, text: name })),
          el("td", {}, el("span", { class: "chip", style: `background:${color(c.truth)}` }), c.truth),
          el("td", {}, el("span", { class: "chip", style: `background:${color(c.predicted)}` }), c.predicted),
          el("td", { class: "num", text: pct(c.confidence) }),
          el("td", { class: "strip" }, strip(c)),
          el("td", {}, stretch ? el("span", { class: "summary", text: "edit the annotations" }) : correctionSelect(c.abs, c.truth)));
        if (!stretch) markRow(row, c.abs);
        return row;
      })));
  }

  // ---- Timelines ----
  function timelineView() {
    const view = $("timelines-view");
    const seen = new Set();
    for (const t of DATA.timelines) for (const w of t.windows) seen.add(w[2]);
    view.append(el("h2", { text: "Labels over time" }),
      el("div", { class: "legend" }, [...seen].sort().map((l) => el("span", {}, el("span", { class: "chip", style: `background:${color(l)}` }), l))));
    DATA.timelines.forEach((t, n) => {
      let end = 1e-6;
      for (const w of t.windows) end = Math.max(end, w[1]);
      const track = el("div", { class: "track", id: `track-${n}` });
      // Each window owns the time from its start to the next window's start (its end for the
      // last); consecutive windows with one label are drawn as one segment.
      const runs = [];
      t.windows.forEach((w, k) => {
        const next = k + 1 < t.windows.length ? Math.min(t.windows[k + 1][0], w[1]) : w[1];
        const from = k === 0 ? 0 : w[0];
        const last = runs[runs.length - 1];
        if (last && last.label === w[2]) { last.to = next; last.scores.push(w[3]); last.end = w[1]; }
        else runs.push({ label: w[2], from, to: next, start: w[0], end: w[1], scores: [w[3]] });
      });
      for (const r of runs) {
        const mean = r.scores.reduce((a, b) => a + b, 0) / r.scores.length;
        track.append(el("div", { class: "seg", "data-label": r.label,
          style: `left:${(r.from / end) * 100}%;width:${Math.max(0.1, ((r.to - r.from) / end) * 100)}%;background:${color(r.label)};opacity:${0.35 + 0.65 * mean}`,
          title: `${r.start.toFixed(2)}–${r.end.toFixed(2)} s: ${r.label}, mean ${pct(mean)} over ${r.scores.length} window(s)` }));
      }
      const axis = el("div", { class: "axis" });
      const step = niceStep(end / 8);
      for (let s = 0; s <= end + 1e-9; s += step) axis.append(el("span", { style: `left:${(s / end) * 100}%`, text: clock(s) }));
      view.append(el("div", { class: "timeline" }, el("div", { class: "name" }, el("a", { href: fileURL(t.abs), text: t.path }),
        ` · ${t.windows.length} windows` + (t.window ? ` of ${t.window} s every ${t.stride} s` : "")), track, axis));
    });
  }
  function niceStep(x) {
    for (const s of [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]) if (s >= x) return s;
    return 7200;
  }
  function clock(s) {
    const m = Math.floor(s / 60), sec = s - m * 60;
    return m ? `${m}:${String(Math.round(sec)).padStart(2, "0")}` : `${+sec.toFixed(1)}s`;
  }

  document.addEventListener("DOMContentLoaded", () => {
    header();
    labelView();
    evaluationView();
    timelineView();
    $("download-corrections").addEventListener("click", downloadCorrections);
    $("download-labels").addEventListener("click", downloadReviewed);
    $("clear-corrections").addEventListener("click", () => {
      corrections = {};
      saveCorrections();
      for (const select of document.querySelectorAll("select.correction")) { select.value = ""; const r = select.closest("tr"); if (r) markRow(r, select.dataset.path); }
    });
    saveCorrections();
    document.body.dataset.ready = "true";
  });
})();
"""#
}
