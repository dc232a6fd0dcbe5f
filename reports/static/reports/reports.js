/* Supervisor's report page: reads the period report and the SPM tables from the JSON API, draws cards,
   inline SVG charts (no library, no CDN) and tables, and points the download links at the exports. */
"use strict";

(function () {
  const cfgEl = document.getElementById("console-config");
  if (!cfgEl) return;
  const cfg = JSON.parse(cfgEl.textContent);
  if (!cfg.region) return;
  const T = cfg.report_strings;
  const urls = cfg.report_urls;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const num = (v, digits = 1) => (v == null ? "–" : Number(v).toLocaleString(document.documentElement.lang || "id", { maximumFractionDigits: digits }));
  const min = (s) => (s == null ? null : s / 60);
  const pct = (share) => (share == null ? null : 100 * share);
  window.SiagaReports = { loaded: null };

  function query() {
    const kind = $("period-kind").value;
    const q = new URLSearchParams({ region: cfg.region.slug });
    if (kind === "month") q.set("period", $("period-month").value);
    else if (kind === "quarter") q.set("period", `${$("period-year").value}-${$("period-quarter").value}`);
    else if (kind === "year") q.set("period", $("period-year").value);
    else { q.set("from", $("period-from").value); q.set("to", $("period-to").value); }
    return q;
  }

  function showInputs() {
    const kind = $("period-kind").value;
    $("period-month").hidden = kind !== "month";
    $("period-quarter").hidden = kind !== "quarter";
    $("period-year").hidden = !(kind === "quarter" || kind === "year");
    $("period-from").hidden = $("period-to").hidden = kind !== "range";
  }

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const body = await response.json();
    if (!response.ok) {
      const code = body.error && body.error.code;
      throw new Error((cfg.errors && cfg.errors[code]) || (body.error && body.error.message) || response.status);
    }
    return body;
  }

  function bars(title, rows, { key = "label", value = "reports", cls = () => "bar", width = 380 } = {}) {
    const h = 16, pad = 110, max = Math.max(1, ...rows.map((r) => r[value] || 0));
    const body = rows.map((r, i) => {
      const w = ((width - pad - 40) * (r[value] || 0)) / max;
      return `<text x="${pad - 4}" y="${i * h + 12}" text-anchor="end">${esc(String(r[key]).slice(0, 18))}</text>` +
        `<rect class="${cls(r)}" x="${pad}" y="${i * h + 2}" width="${w.toFixed(1)}" height="${h - 4}"></rect>` +
        `<text x="${pad + w + 3}" y="${i * h + 12}">${num(r[value], 0)}</text>`;
    }).join("");
    return chart(title, `<svg viewBox="0 0 ${width} ${rows.length * h + 4}" role="img" aria-label="${esc(title)}">${body}</svg>`);
  }

  function columns(title, rows, { value, label, cls = () => "bar", format = (v) => num(v, 0) }) {
    const w = 380, h = 150, n = Math.max(rows.length, 1), bw = (w - 20) / n, max = Math.max(1, ...rows.map((r) => r[value] || 0));
    const body = rows.map((r, i) => {
      const bh = ((h - 30) * (r[value] || 0)) / max, x = 10 + i * bw;
      return `<rect class="${cls(r)}" x="${(x + 1).toFixed(1)}" y="${(h - 15 - bh).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${bh.toFixed(1)}"><title>${esc(r[label])}: ${format(r[value])}</title></rect>` +
        (n <= 24 ? `<text x="${(x + bw / 2).toFixed(1)}" y="${h - 3}" text-anchor="middle">${esc(r[label])}</text>` : "");
    }).join("");
    return chart(title, `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}">${body}</svg>`);
  }

  function chart(title, svg) {
    return `<div class="chart"><h3>${esc(title)}</h3>${svg}</div>`;
  }

  function table(title, head, rows, rowClass = () => "") {
    return `<h3>${esc(title)}</h3><table><thead><tr>${head.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>` +
      rows.map((r) => `<tr class="${rowClass(r)}">${r.cells.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("") + "</tbody></table>";
  }

  function responseCells(r) {
    return [num(r.reports, 0), num(r.responded, 0), num(min(r.mean_s)), num(min(r.p90_s)), num(pct(r.share_within_target))];
  }

  function spmTable(title, spm) {
    const rank = Object.fromEntries(spm.failing.map((code, i) => [code, i + 1]));
    const rows = spm.kecamatan.map((k) => ({
      fails: k.fails && k.code,
      cells: [k.name || T.no_kecamatan, num(k.events, 0), num(pct(k.share_within)), num(min(k.p90_s)), num(pct(k.wmk_population_share)), rank[k.code] || ""],
    }));
    const note = spm.wmk_note ? `<p class="hint">${esc(T.wmk_missing.replace("%(why)s", spm.wmk_note))}</p>` : "";
    return table(`${title} (${Math.round(spm.target_s / 60)} ${T.min})`, [T.kecamatan, T.events, T.within_standard_pct, T.p90_min, T.wmk_pct, T.rank], rows, (r) => (r.fails ? "fails" : "")) + note + poskoTable(title, spm);
  }

  function poskoTable(title, spm) {
    if (!spm.new_posko || !spm.new_posko.length) return "";
    const rows = spm.new_posko.map((e) => ({
      cells: [e.name, e.site ? `${num(e.site.lon, 5)}, ${num(e.site.lat, 5)}` : "–", e.site ? e.site.street || "" : e.note,
        num(pct(e.wmk_population_share_before)), num(pct(e.wmk_population_share_after)), num(e.population_gained, 0),
        num(e.fires, 0), num(pct(e.fires_within_share_before)), num(pct(e.fires_within_share_after))],
    }));
    return `<div class="new-posko">` + table(`${title}: ${T.new_posko}`, [T.kecamatan, T.site, T.street, T.wmk_before_pct, T.wmk_after_pct, T.people_gained, T.events, T.within_before_pct, T.within_after_pct], rows) +
      `<p class="hint">${esc(T.new_posko_hint)}</p></div>`;
  }

  function render(report, fire, ems) {
    const c = report.counts, o = report.response.overall;
    const card = (value, label) => `<div class="card"><div class="value">${value}</div><div class="label">${esc(label)}</div></div>`;
    $("report-cards").innerHTML = [
      card(num(c.reports, 0), `${T.reports} · ${report.period.label_id}`),
      card(`${num(pct(c.prank_share))} %`, T.prank_share),
      card(`${num(min(o.mean_s))} ${T.min}`, T.mean_response),
      card(`${num(min(o.p90_s))} ${T.min}`, T.p90_response),
      card(`${num(pct(o.share_within_target))} %`, T.within_target),
    ].join("");
    $("report-charts").innerHTML = [
      columns(T.by_hour, c.by_hour, { value: "reports", label: "label" }),
      columns(T.prank_trend, c.prank_trend.map((m) => ({ ...m, pct: pct(m.prank_share) })), { value: "pct", label: "month", cls: () => "bar prank", format: (v) => `${num(v)} %` }),
      bars(T.by_channel, c.by_channel),
      bars(T.outcomes, c.outcomes, { cls: (r) => (r.key === "prank" ? "bar prank" : "bar") }),
      bars(T.by_type, c.by_type.slice(0, 12)),
      bars(T.by_kecamatan, c.by_kecamatan),
    ].join("");
    const agencyRows = [];
    for (const a of report.response.by_agency) {
      agencyRows.push({ cells: [a.label, T.all, ...responseCells(a)] });
      for (const p of a.by_priority) agencyRows.push({ cells: [a.label, p.label, ...responseCells(p)] });
    }
    const head = [T.reports, T.reached, T.mean_min, T.p90_min, T.within_target_pct];
    const phases = ["received_to_dispatched_s", "dispatched_to_en_route_s", "en_route_to_on_scene_s"];
    const phaseHead = [T.agency, ...phases.flatMap((p) => [`${T["phase_" + p]}: ${T.mean_min}`, `${T["phase_" + p]}: ${T.p90_min}`])];
    const phaseRows = report.response.by_agency.map((a) => ({ cells: [a.label, ...phases.flatMap((p) => [num(min(a.phases[p].mean_s)), num(min(a.phases[p].p90_s))])] }));
    const h = report.hand_offs.by_agency;
    const handoffs = h.length
      ? table(T.handoffs, [T.agency, T.handoff_count, T.sent, T.acknowledged, T.acknowledged_pct, T.ack_mean_min, T.ack_p90_min, T.unacknowledged, T.escalated],
        h.map((r) => ({ cells: [r.label, num(r.handoffs, 0), num(r.sent, 0), num(r.acknowledged, 0), num(pct(r.acknowledged_share)), num(min(r.ack_s.mean)), num(min(r.ack_s.p90)), num(r.unacknowledged, 0), num(r.escalated, 0)] })))
      : `<h3>${esc(T.handoffs)}</h3><p class="hint">${esc(T.no_handoffs)}</p>`;
    const statuses = report.unit_time.statuses;
    $("report-tables").innerHTML = [
      table(T.response_agency, [T.agency, T.priority, ...head], agencyRows),
      table(T.response_kecamatan, [T.kecamatan, ...head], report.response.by_kecamatan.map((k) => ({ cells: [k.label, ...responseCells(k)] }))),
      table(T.phases, phaseHead, phaseRows),
      handoffs,
      spmTable(T.spm_fire, fire),
      spmTable(T.spm_ems, ems),
      table(T.unit_time, [T.unit, T.agency, ...statuses.map((s) => s.label)],
        report.unit_time.units.map((u) => ({ cells: [u.call_sign, u.agency, ...statuses.map((s) => num(u.seconds_by_status[s.key] / 3600))] }))),
    ].join("");
  }

  async function load() {
    const q = query();
    for (const [id, name] of [["dl-pdf", "period-pdf"], ["dl-xlsx", "period-xlsx"], ["dl-csv", "period-csv"], ["dl-data", "incidents-csv"]]) {
      $(id).href = `${urls[name]}?${q}`;
    }
    // Coverage maps are of the stations now (no period); the reports' maps are of the period.
    const region = new URLSearchParams({ region: cfg.region.slug, agency: "fire" });
    for (const fmt of ["gpkg", "geojson", "png"]) {
      $(`dl-map-coverage-${fmt}`).href = `${urls["map-coverage-" + fmt]}?${region}${fmt === "geojson" ? "&layer=wmk_zones" : ""}`;
      $(`dl-map-incidents-${fmt}`).href = `${urls["map-incidents-" + fmt]}?${q}`;
    }
    $("report-status").textContent = T.loading;
    try {
      const [report, fire, ems] = await Promise.all([
        getJSON(`${urls.period}?${q}`),
        getJSON(`${urls.spm}?${q}&agency=fire`),
        getJSON(`${urls.spm}?${q}&agency=ems`),
      ]);
      render(report, fire, ems);
      $("report-status").textContent = "";
      window.SiagaReports.loaded = report.period.key;
      document.body.dataset.reportPeriod = report.period.key;
    } catch (error) {
      $("report-status").textContent = error.message;
      $("report-status").className = "status error";
    }
  }

  $("period-kind").addEventListener("change", showInputs);
  $("report-form").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  showInputs();
  load();
})();
