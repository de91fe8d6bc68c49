// SPDX-License-Identifier: Apache-2.0
// The status page: no external resource (no CDN, no build step). It polls /status every two
// seconds, shows the views, and draws the last five minutes of rates in an inline SVG chart.
// Neighbour links come from /status ("page" of each active peer, see ops_endpoint.cpp).
#include "status_page.hpp"

namespace hypar {

const std::string_view kStatusPage = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hypar node</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.05em; margin: 1.2em 0 .4em; }
table { border-collapse: collapse; } td, th { padding: .2em .7em; border-bottom: 1px solid #ddd; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #777; } .bad { color: #b00; } code { font-size: .95em; }
svg { border: 1px solid #ddd; background: #fcfcfc; }
.legend span { margin-right: 1.2em; } .sw { display: inline-block; width: .9em; height: .9em; vertical-align: -.1em; }
</style></head>
<body>
<h1 id="title">hypar node</h1>
<div class="muted"><span id="subtitle">loading /status...</span> <span id="error" class="bad"></span></div>
<h2>Active view (<span id="active-count">0</span>)</h2>
<table id="active"><thead><tr><th>peer</th><th>name</th><th>age</th><th>sent</th><th>received</th><th>queued</th><th>page</th></tr></thead><tbody></tbody></table>
<h2>Rates over the last 5 minutes</h2>
<svg id="chart" width="640" height="160" viewBox="0 0 640 160" role="img" aria-label="rates"></svg>
<div class="legend" id="legend"></div>
<h2>Passive view (<span id="passive-count">0</span>)</h2>
<div id="passive" class="muted"></div>
<h2>Counters</h2>
<table id="counters"><tbody></tbody></table>
<script>
"use strict";
const series = [
  {key: "messages_sent", label: "messages sent/s", color: "#1f77b4"},
  {key: "messages_received", label: "messages received/s", color: "#ff7f0e"},
  {key: "link_changes", label: "link changes/min", color: "#d62728", perMinute: true},
];
const history = [];  // {t, values}
const keepSeconds = 300;
let previous = null;

function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}
function age(s) {
  if (s < 60) return s.toFixed(0) + " s";
  if (s < 3600) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(1) + " h";
}
function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; ++i; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
}
function linkChanges(c) {
  let down = 0;
  for (const v of Object.values(c.link_down)) down += v;
  return c.link_up + down;
}
function render(s) {
  document.title = "hypar " + s.id;
  document.getElementById("title").textContent = "hypar node " + s.id + (s.name ? " (" + s.name + ")" : "");
  document.getElementById("subtitle").textContent =
      "up " + age(s.uptime_seconds) + " \u00b7 incarnation " + s.incarnation + " \u00b7 metrics at " + s.metrics_address;
  document.getElementById("active-count").textContent = s.active.length;
  const body = document.querySelector("#active tbody");
  body.replaceChildren();
  for (const p of s.active) {
    const tr = el("tr", undefined, {"data-peer": p.id});
    tr.append(el("td", p.id), el("td", p.name), el("td", age(p.age_seconds), {class: "n"}),
              el("td", bytes(p.bytes_sent), {class: "n"}), el("td", bytes(p.bytes_received), {class: "n"}),
              el("td", String(p.queued_messages), {class: "n"}));
    const cell = el("td");
    if (p.page) cell.append(el("a", "open", {href: p.page, class: "peer-link"}));
    else cell.append(el("span", "unknown", {class: "muted"}));
    tr.append(cell);
    body.append(tr);
  }
  document.getElementById("passive-count").textContent = s.passive.length;
  document.getElementById("passive").textContent = s.passive.map(p => p.id).join(", ") || "(empty)";
  const counters = document.querySelector("#counters tbody");
  counters.replaceChildren();
  for (const [k, v] of Object.entries(s.counters)) {
    const tr = el("tr");
    counters.append(tr);
    tr.append(el("td", k), el("td", typeof v === "object" ? JSON.stringify(v) : String(v), {class: "n"}));
  }
}
function record(s) {
  const now = s.uptime_seconds;
  const c = s.counters;
  const current = {messages_sent: c.messages_sent, messages_received: c.messages_received, link_changes: linkChanges(c)};
  if (previous && now > previous.t) {
    const dt = now - previous.t;
    const values = {};
    for (const x of series) values[x.key] = (current[x.key] - previous.v[x.key]) / dt * (x.perMinute ? 60 : 1);
    history.push({t: now, values});
    while (history.length && history[0].t < now - keepSeconds) history.shift();
  }
  previous = {t: now, v: current};
}
function draw() {
  const svg = document.getElementById("chart");
  const W = 640, H = 160, pad = 24;
  svg.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  let max = 1;
  for (const h of history) for (const x of series) max = Math.max(max, h.values[x.key]);
  const axis = document.createElementNS(ns, "text");
  axis.setAttribute("x", 4); axis.setAttribute("y", 14); axis.setAttribute("font-size", "11");
  axis.textContent = "max " + max.toFixed(1);
  svg.append(axis);
  if (history.length < 2) return;
  const t1 = history[history.length - 1].t, t0 = t1 - keepSeconds;
  for (const x of series) {
    const points = history.map(h => [pad + (h.t - t0) / keepSeconds * (W - 2 * pad),
                                      H - pad - h.values[x.key] / max * (H - 2 * pad)]);
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.map(p => p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" "));
    line.setAttribute("fill", "none"); line.setAttribute("stroke", x.color); line.setAttribute("stroke-width", "1.5");
    line.setAttribute("data-series", x.key);
    svg.append(line);
  }
}
function legend() {
  const l = document.getElementById("legend");
  for (const x of series) {
    const s = el("span");
    s.append(el("span", "", {class: "sw", style: "background:" + x.color}), document.createTextNode(" " + x.label));
    l.append(s);
  }
}
async function poll() {
  try {
    const response = await fetch("status", {cache: "no-store"});
    if (!response.ok) throw new Error("HTTP " + response.status);
    const s = await response.json();
    document.getElementById("error").textContent = "";
    render(s); record(s); draw();
  } catch (e) {
    document.getElementById("error").textContent = "cannot reach the node: " + e.message;
  }
}
legend();
poll();
setInterval(poll, 2000);
</script>
</body></html>
)html";

}  // namespace hypar
