/* Live road closures on a console's map: every closure in force or scheduled drawn with its reason and end
   time (GET /api/regions/<slug>/closures/, then the live ``closure`` message), and, where the user may
   dispatch, the tools to close roads: draw an area by clicking its corners (or a line along a street), or
   upload a GeoJSON file (POST /api/closures/), and lift one (POST /api/closures/<id>/lift/). Plain script,
   loaded before the page's own; ``window.SiagaClosures(ctx, {editable, changed})``. */
"use strict";

window.SiagaClosures = function (ctx, { editable = false, changed = () => {} } = {}) {
  const S = window.Siaga;
  const { cfg, T, api, url, escapeHtml: esc } = S;
  const layer = L.geoJSON(null, { style: styleOf, onEachFeature: (f, l) => l.bindTooltip(tooltipOf(f), { sticky: true }) });
  layer.addTo(ctx.map);
  ctx.control.addOverlay(layer, T.closures);
  const byId = {}; // closure id -> the Feature as the API gives it
  const draft = { on: false, points: [], shape: null };
  const listEl = document.getElementById("closure-list");
  const boxEl = document.getElementById("closure-tools");

  function styleOf(feature) {
    const p = feature.properties;
    const slow = p.mode === "slow";
    const colour = slow ? "#d68910" : "#b03a2e";
    return {
      color: colour, weight: 6, opacity: 0.9, fillColor: colour, fillOpacity: 0.25,
      dashArray: p.state === "scheduled" ? "6 6" : null, className: `closure closure-${p.state}`,
    };
  }

  function untilText(p) {
    return p.ends_at ? `${T.closure_until} ${S.clock(p.ends_at)}` : T.closure_until_lifted;
  }

  function modeText(p) {
    return p.mode === "slow" ? `${T.closure_slow} ×${p.slow_factor}` : T.closure_closed;
  }

  function tooltipOf(feature) {
    const p = feature.properties;
    const scheduled = p.state === "scheduled" ? ` · ${esc(T.closure_from)} ${S.clock(p.starts_at)}` : "";
    return `<b>${esc(modeText(p))}</b>: ${esc(p.reason)}<br>${esc(untilText(p))}${scheduled}`;
  }

  // An end time passed is an end even before its message arrives (the server's worker records it).
  const inForce = (p) => (p.state === "active" || p.state === "scheduled") && !(p.ends_at && new Date(p.ends_at) <= new Date());

  function redraw() {
    layer.clearLayers();
    const shown = Object.values(byId).filter((f) => inForce(f.properties));
    shown.forEach((f) => layer.addData(f));
    if (!listEl) return;
    listEl.innerHTML = shown.map((f) => {
      const p = f.properties;
      const lift = editable ? `<button type="button" class="closure-lift" data-closure="${p.id}">${esc(T.closure_lift)}</button>` : "";
      return `<li class="closure-item closure-${esc(p.state)}" data-closure="${p.id}"><b>${esc(modeText(p))}</b>
        ${esc(p.reason)}<br><small>${esc(untilText(p))}</small> ${lift}</li>`;
    }).join("") || `<li class="hint">${esc(T.closure_none)}</li>`;
    listEl.querySelectorAll(".closure-lift").forEach((b) => b.addEventListener("click", () => lift(b)));
  }

  function apply(feature) {
    byId[feature.id] = feature;
    redraw();
  }

  async function load() {
    if (!cfg.region) return;
    const data = await api("GET", url("closures", { slug: cfg.region.slug }));
    Object.keys(byId).forEach((id) => delete byId[id]);
    data.features.forEach((f) => { byId[f.id] = f; });
    redraw();
    S.markLoaded("closures", data.features.length);
  }

  /* The live ``closure`` message: drawn, redrawn or dropped by its state; true when it was one. */
  function onMessage(message) {
    if (message.type !== "closure" || !message.closure) return false;
    apply(message.closure);
    changed(message.closure);
    return true;
  }

  // ------------------------------------------------------------------ closing roads (dispatchers)

  function formHtml() {
    return `<form id="closure-form" class="closure-form" autocomplete="off">
      <p class="hint" id="closure-draw-hint">${esc(T.closure_draw_hint)}</p>
      <label>${esc(T.closure_shape)} <select name="shape"><option value="area">${esc(T.closure_area)}</option>
        <option value="line">${esc(T.closure_line)}</option></select></label>
      <label>${esc(T.closure_file)} <input type="file" name="file" accept=".geojson,.json,application/geo+json,application/json"></label>
      <label>${esc(T.closure_reason)} <input name="reason" required maxlength="500"></label>
      <label>${esc(T.closure_mode)} <select name="mode"><option value="closed">${esc(T.closure_closed)}</option>
        <option value="slow">${esc(T.closure_slow)}</option></select></label>
      <label>${esc(T.closure_factor)} <input name="slow_factor" type="number" min="1.1" max="20" step="0.1" value="3"></label>
      <label>${esc(T.closure_ends)} <input name="ends_at" type="datetime-local"></label>
      <div><button type="submit" class="primary">${esc(T.closure_submit)}</button>
        <button type="button" class="cancel">${esc(T.cancel)}</button></div>
      <p class="error" id="closure-error" role="alert"></p></form>`;
  }

  function drawDraft() {
    if (draft.shape) draft.shape.remove();
    const latlngs = draft.points.map(([lon, lat]) => [lat, lon]);
    const area = boxEl.querySelector("select[name=shape]").value === "area";
    draft.shape = (area && latlngs.length > 2 ? L.polygon : L.polyline)(latlngs, { color: "#7d3c98", weight: 3, dashArray: "4 4" });
    draft.shape.addTo(ctx.map);
  }

  function stop() {
    draft.on = false;
    draft.points = [];
    if (draft.shape) draft.shape.remove();
    draft.shape = null;
    boxEl.innerHTML = `<button type="button" id="closure-new">${esc(T.closure_new)}</button>`;
    boxEl.querySelector("#closure-new").addEventListener("click", start);
  }

  function start() {
    draft.on = true;
    draft.points = [];
    boxEl.innerHTML = formHtml();
    const form = boxEl.querySelector("#closure-form");
    form.querySelector(".cancel").addEventListener("click", stop);
    form.elements.shape.addEventListener("change", drawDraft);
    form.addEventListener("submit", (event) => { event.preventDefault(); submit(form); });
  }

  /* A click on the map while drawing adds a corner (or a point of the line); true when it was taken. */
  function mapClicked(latlng) {
    if (!draft.on) return false;
    draft.points.push([latlng.lng, latlng.lat]);
    drawDraft();
    return true;
  }

  async function body(form) {
    const out = { region: cfg.region.slug, reason: form.elements.reason.value.trim(), mode: form.elements.mode.value };
    if (out.mode === "slow") out.slow_factor = Number(form.elements.slow_factor.value);
    // The field holds the centre's local time; the browser's own zone reads it, as the dispatcher sees it.
    if (form.elements.ends_at.value) out.ends_at = new Date(form.elements.ends_at.value).toISOString();
    const file = form.elements.file.files[0];
    if (file) {
      try { out.geojson = JSON.parse(await file.text()); } catch (err) { throw new Error(`${T.closure_file_bad}: ${err.message}`); }
      return out;
    }
    const pts = draft.points;
    if (form.elements.shape.value === "area") {
      if (pts.length < 3) throw new Error(T.closure_need_points);
      out.geometry = { type: "Polygon", coordinates: [[...pts, pts[0]]] };
    } else {
      if (pts.length < 2) throw new Error(T.closure_need_points);
      out.geometry = { type: "LineString", coordinates: pts };
    }
    return out;
  }

  async function submit(form) {
    const errorEl = form.querySelector("#closure-error");
    errorEl.textContent = "";
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const created = await api("POST", url("closure_create"), await body(form));
      apply(created);
      stop();
      changed(created);
    } catch (err) {
      button.disabled = false;
      errorEl.textContent = err.message;
    }
  }

  async function lift(button) {
    button.disabled = true;
    try {
      const lifted = await api("POST", url("closure_lift", { id: button.dataset.closure }), {});
      apply(lifted);
      changed(lifted);
    } catch (err) {
      button.disabled = false;
      button.insertAdjacentHTML("afterend", `<span class="error">${esc(err.message)}</span>`);
    }
  }

  if (editable && boxEl && cfg.region) stop();
  setInterval(redraw, 30000);
  return { load, onMessage, mapClicked, byId };
};
