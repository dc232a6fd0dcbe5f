/* Planner page: travel-time grid, coverage per kecamatan, gaps, siting suggestions, what-if road closures. */
"use strict";

(function () {
  const S = window.Siaga;
  const { cfg, T, api, escapeHtml: esc } = S;
  if (!document.getElementById("map")) return;
  const ctx = S.createMap("map");
  const grid = L.geoJSON(null, { style: cellStyle }).addTo(ctx.map);
  const choropleth = L.geoJSON(null).addTo(ctx.map);
  const sites = L.layerGroup().addTo(ctx.map);
  ctx.control.addOverlay(grid, T.travel_time_grid);
  ctx.control.addOverlay(choropleth, T.coverage_kecamatan);
  ctx.control.addOverlay(sites, T.siting);
  const statusEl = document.getElementById("plan-status");
  const resultEl = document.getElementById("plan-result");
  const closed = new Set(); // RoadEdge ids closed for the what-if, both directions of a street
  let legend = null;
  window.SiagaPlan = { map: ctx.map, roads: ctx.layers.roads, closed }; // for debugging and the end-to-end tests

  const TIME_BREAKS_S = [300, 480, 600, 900, 1200];
  const TIME_COLOURS = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027"];

  function timeColour(seconds) {
    if (seconds == null) return "#555";
    const i = TIME_BREAKS_S.findIndex((b) => seconds <= b);
    return TIME_COLOURS[i === -1 ? TIME_COLOURS.length - 1 : i];
  }

  function cellStyle(feature) {
    return { stroke: false, fillColor: timeColour(feature.properties.time_s), fillOpacity: 0.55, className: "grid-cell" };
  }

  function shareColour(share) {
    if (share == null) return "#555";
    if (share >= 0.95) return "#1a9850";
    if (share >= 0.8) return "#91cf60";
    if (share >= 0.6) return "#fee08b";
    if (share >= 0.4) return "#fc8d59";
    return "#d73027";
  }

  function setLegend(html) {
    if (legend) legend.remove();
    legend = L.control({ position: "bottomright" });
    legend.onAdd = () => Object.assign(L.DomUtil.create("div", "legend"), { innerHTML: html });
    legend.addTo(ctx.map);
  }

  function inputs() {
    const threshold = Number(document.getElementById("plan-threshold").value);
    const agency = document.getElementById("plan-agency").value;
    return { threshold, agency, base: { region: cfg.region.slug, sources: { agencies: [agency] }, thresholds_s: [threshold] } };
  }

  async function run(label, work) {
    statusEl.textContent = `${label}: ${T.loading}`;
    try {
      await work((progress) => {
        statusEl.innerHTML = `${esc(label)}: <progress class="run-progress" max="1" value="${progress.value}"></progress>
          ${Math.round(100 * progress.value)}% <span class="run-step">${esc(progress.message || "")}</span>`;
      });
      statusEl.textContent = label;
    } catch (err) {
      statusEl.innerHTML = `<span class="error">${esc(label)}: ${esc(err.message)}</span>`;
    }
  }

  // A coverage run is computed by a job worker: the POST answers 202 with the run's URL, which is polled until
  // the run has succeeded (its figures, as the POST used to answer) or failed (its reason, shown as an error).
  const POLL_MS = [300, 500, 1000, 1000, 2000];
  async function runJob(name, body, onProgress) {
    let shown = await api("POST", S.url(name), body);
    for (let i = 0; shown.state === "queued" || shown.state === "running"; i += 1) {
      onProgress({ value: shown.progress || 0, message: shown.state === "queued" ? T.run_queued : shown.message });
      await new Promise((resolve) => setTimeout(resolve, POLL_MS[Math.min(i, POLL_MS.length - 1)]));
      shown = await api("GET", shown.url);
    }
    if (shown.state === "failed") {
      const error = shown.error || {};
      const summary = (cfg.errors || {})[error.code] || T.run_failed;
      throw Object.assign(new Error(error.message ? `${summary}: ${error.message}` : summary), { code: error.code });
    }
    return shown;
  }

  function shareAt(row, threshold) {
    const t = (row.thresholds || []).find((x) => x.threshold_s === threshold);
    return t ? t.population_share : null;
  }

  function kecamatanTable(rows, threshold) {
    return `<table class="coverage-table"><tr><th>${esc(T.kecamatan)}</th><th>${esc(T.people_covered)}</th></tr>`
      + rows.map((r) => `<tr><td>${esc(r.name)}</td><td>${Math.round(100 * (shareAt(r, threshold) || 0))}%</td></tr>`).join("")
      + "</table>";
  }

  document.getElementById("btn-grid").addEventListener("click", () => run(T.travel_time_grid, async (onProgress) => {
    const { base } = inputs();
    const result = await runJob("coverage_surface", { ...base, cell_m: 500 }, onProgress);
    grid.clearLayers().addData(result.grid);
    S.markLoaded("grid", result.grid.features.length);
    setLegend(TIME_BREAKS_S.map((b, i) => `<i style="background:${TIME_COLOURS[i]}"></i>≤ ${b / 60} ${T.minutes}`).join("<br>")
      + `<br><i style="background:${TIME_COLOURS[5]}"></i>&gt; ${TIME_BREAKS_S[4] / 60} ${T.minutes}`);
  }));

  document.getElementById("btn-kecamatan").addEventListener("click", () => run(T.coverage_kecamatan, async (onProgress) => {
    const { base, threshold } = inputs();
    const result = await runJob("coverage_report", base, onProgress);
    const byCode = Object.fromEntries(result.kecamatan.map((r) => [r.code, r]));
    choropleth.clearLayers();
    ctx.layers.kecamatan.eachLayer((layer) => {
      const row = byCode[layer.feature.properties.code];
      const share = row ? shareAt(row, threshold) : null;
      L.geoJSON(layer.feature, {
        style: { color: "#333", weight: 1, fillColor: shareColour(share), fillOpacity: 0.6, className: "coverage-kecamatan" },
      }).bindTooltip(`${esc(layer.feature.properties.name)}: ${share == null ? "–" : Math.round(share * 100) + "%"}`)
        .addTo(choropleth);
    });
    S.markLoaded("coverage", result.kecamatan.length);
    resultEl.innerHTML = kecamatanTable(result.kecamatan, threshold);
    setLegend(`${esc(T.people_covered)} ≤ ${threshold / 60} ${T.minutes}<br>`
      + [[0.95, "≥ 95%"], [0.8, "80–95%"], [0.6, "60–80%"], [0.4, "40–60%"], [0, "< 40%"]]
        .map(([s, text]) => `<i style="background:${shareColour(s)}"></i>${text}`).join("<br>"));
  }));

  document.getElementById("btn-gaps").addEventListener("click", () => run(T.gaps, async (onProgress) => {
    const { base, threshold } = inputs();
    const result = await runJob("coverage_gaps", { ...base, target_s: threshold }, onProgress);
    resultEl.innerHTML = `<table class="gaps-table"><tr><th>${esc(T.kecamatan)}</th><th>${esc(T.people_uncovered)}</th><th>%</th></tr>`
      + result.gaps.kecamatan.map((r) => `<tr><td>${esc(r.name)}</td><td>${Math.round(r.population_beyond_target)}</td>
        <td>${Math.round(100 * r.share_beyond_target)}%</td></tr>`).join("") + "</table>"
      + `<p><a href="${result.links.gaps_csv}">CSV</a> · <a href="${result.links.map_png}" target="_blank">PNG</a></p>`;
  }));

  document.getElementById("btn-siting").addEventListener("click", () => run(T.siting, async (onProgress) => {
    const { threshold, agency } = inputs();
    const k = Number(document.getElementById("plan-k").value) || 1;
    const result = await runJob("coverage_siting", {
      region: cfg.region.slug, model: "mclp", k, threshold_s: threshold, existing: { agencies: [agency] },
    }, onProgress);
    sites.clearLayers();
    result.chosen.forEach((site) => {
      const [lon, lat] = site.point;
      L.marker([lat, lon], { title: `${T.new_site} ${site.rank}` })
        .bindTooltip(`${esc(T.new_site)} ${site.rank}: ${esc(site.kecamatan || "")} +${Math.round(site.gain_population)}`)
        .addTo(sites);
    });
    S.markLoaded("sites", result.chosen.length);
    resultEl.innerHTML = `<p>${esc(T.before)}: ${Math.round(100 * result.share_before)}% → ${esc(T.after)}:
      ${Math.round(100 * result.share_after)}% (≤ ${threshold / 60} ${T.minutes})</p>`;
  }));

  // What-if: click a street to close it (red) or reopen it, then compare coverage before and after.
  ctx.layers.roads.on("click", (event) => {
    const ids = event.layer.feature.properties.edge_ids;
    const isClosed = ids.every((id) => closed.has(id));
    ids.forEach((id) => (isClosed ? closed.delete(id) : closed.add(id)));
    event.layer.setStyle(isClosed ? { color: "#b9a98f", dashArray: null } : { color: "#d00", weight: 5, dashArray: "6 4" });
    document.getElementById("closed-count").textContent = String(closed.size);
  });

  document.getElementById("btn-whatif-clear").addEventListener("click", () => {
    closed.clear();
    ctx.layers.roads.resetStyle();
    document.getElementById("closed-count").textContent = "0";
  });

  document.getElementById("btn-whatif").addEventListener("click", () => run(T.whatif, async (onProgress) => {
    const { base, threshold } = inputs();
    const result = await runJob("coverage_whatif", { ...base, close_edge_ids: [...closed] }, onProgress);
    const before = Object.fromEntries(result.before.kecamatan.map((r) => [r.code, r]));
    resultEl.innerHTML = `<table class="whatif-table"><tr><th>${esc(T.kecamatan)}</th><th>${esc(T.before)}</th>
      <th>${esc(T.after)}</th></tr>` + result.after.kecamatan.map((r) => `<tr><td>${esc(r.name)}</td>
      <td>${Math.round(100 * (shareAt(before[r.code] || {}, threshold) || 0))}%</td>
      <td>${Math.round(100 * (shareAt(r, threshold) || 0))}%</td></tr>`).join("") + "</table>";
  }));

  // ETA accuracy: how wrong the ETAs given at dispatch were, over the last 90 days (incidents.selectors.eta_accuracy).
  const minutes = (s) => (s == null ? "–" : (s / 60).toFixed(1));
  document.getElementById("btn-eta-accuracy").addEventListener("click", () => run(T.eta_accuracy, async () => {
    const until = new Date();
    const since = new Date(until.getTime() - 90 * 24 * 3600 * 1000);
    const query = new URLSearchParams({
      region: cfg.region.slug, group_by: document.getElementById("eta-group-by").value,
      since: since.toISOString(), until: until.toISOString(),
    });
    const result = await api("GET", `${S.url("eta_accuracy")}?${query}`);
    const rows = [...result.groups, result.overall];
    resultEl.innerHTML = !result.overall.n ? `<p class="eta-accuracy-none">${esc(T.eta_accuracy_none)}</p>`
      : `<table class="eta-accuracy-table"><tr><th></th><th>${esc(T.trips)}</th><th>${esc(T.median_error)}</th>
        <th>${esc(T.bias)}</th><th>${esc(T.p90_abs_error)}</th></tr>` + rows.map((r) => `<tr><td>${esc(r.label)}</td>
        <td>${r.n}</td><td>${minutes(r.median_error_s)}</td><td>${minutes(r.bias_s)}</td>
        <td>${minutes(r.p90_abs_error_s)}</td></tr>`).join("") + "</table>"
      + `<p class="hint">${esc(T.eta_accuracy_note)} ${result.excluded.no_arrival}, ${esc(T.no_eta)}
        ${result.excluded.no_eta}. <a href="${S.url("eta_accuracy_png")}?${query}" target="_blank">PNG</a></p>`;
    S.markLoaded("etaAccuracy", result.overall.n);
  }));

  S.loadBasemap(ctx).catch((err) => console.error(err));
  if (cfg.region) S.loadStations(ctx).catch((err) => console.warn("stations:", err.message));
  // The live road closures, drawn for reference: coverage and what-ifs are computed on the network with them.
  if (cfg.region && window.SiagaClosures) {
    window.SiagaClosures(ctx).load().catch((err) => console.warn("closures:", err.message));
  }
})();
