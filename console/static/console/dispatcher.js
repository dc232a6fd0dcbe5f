/* Dispatcher page: the queue of reports, a report's panel with recommended units, dispatch, live updates. */
"use strict";

(function () {
  const S = window.Siaga;
  const { cfg, T, api, url, escapeHtml: esc } = S;
  if (!document.getElementById("map")) return;
  const ctx = S.createMap("map");
  const reports = L.layerGroup().addTo(ctx.map);
  const routes = L.layerGroup().addTo(ctx.map);
  const offers = L.layerGroup().addTo(ctx.map);
  ctx.control.addOverlay(reports, T.reports);
  ctx.control.addOverlay(routes, T.routes);
  const queueEl = document.getElementById("queue");
  const unitListEl = document.getElementById("unit-list");
  const panelEl = document.getElementById("report-panel");
  // statusErrors: unit id -> the API's refusal, kept until that unit's next change so a re-render cannot hide it.
  // A live update re-renders the panel; what the dispatcher was doing there survives it: the confirmation at
  // the top (notice), the half-filled report form (edit), the capability asked for (asked), the close form.
  const state = {
    queue: [], selected: null, placing: false, unitSelected: null, statusErrors: {},
    notice: null, edit: null, asked: null,
  };
  state.map = ctx.map;
  state.labels = ctx.layers.labels; // the names drawn so far (labels.js), for the end-to-end tests
  window.SiagaDispatch = state; // for debugging and the end-to-end tests

  // Types and capabilities by their names in the page's language (the server's config); a code only when unknown.
  const typeNames = Object.fromEntries((cfg.incident_types || []).map((t) => [t.code, t.name]));
  const capabilityNames = Object.fromEntries((cfg.capabilities || []).map((c) => [c.code, c.name]));
  const typeName = (code) => (code ? typeNames[code] || code : T.no_type_yet);
  const capabilityName = (code) => capabilityNames[code] || code;

  // ------------------------------------------------------------------ queue

  // Responses are applied in the order asked: an answer older than one already applied is dropped.
  const turns = { queue: 0, report: 0, recommendations: 0 };

  // Every report's newest state applied, by a live message or a queue read, kept after it leaves the queue:
  // report id -> {version, listed (in the queue), feature, turn (the message count when a message applied it)}.
  // A message or a read older (by version, incidents/static/incidents/live_versions.js) than it is not applied.
  const seen = {};
  let messageTurn = 0;
  state.seen = seen; // for the end-to-end tests

  async function loadQueue() {
    if (!cfg.region) return;
    const turn = ++turns.queue;
    const startedAt = messageTurn;
    const data = await api("GET", `${cfg.urls.incidents}?region=${cfg.region.slug}&limit=200`);
    if (turn !== turns.queue) return;
    const read = data.features || [];
    const inRead = new Set(read.map(featureId));
    const queue = [];
    read.forEach((f) => {
      const known = seen[featureId(f)];
      if (known && !S.newer(f.properties, known, true)) {
        if (known.listed) queue.push(known.feature); // a message newer than this read came meanwhile: it stays
        return;
      }
      seen[featureId(f)] = { version: f.properties.version, listed: true, feature: f, turn: 0 };
      queue.push(f);
    });
    Object.entries(seen).forEach(([id, known]) => {
      if (!known.listed || inRead.has(Number(id))) return;
      if (known.turn > startedAt) queue.push(known.feature); // listed by a message after the read was asked
      else known.listed = false; // gone from the queue since (closed, cancelled)
    });
    state.queue = queue;
    sortQueue();
    renderQueue();
    // The open report's panel, when the read brings a newer state of it (a reconnect after missed messages).
    const open = queue.find((f) => featureId(f) === state.selected);
    if (open && state.report && S.newer(open.properties, state.report)) applyToPanel(open.properties);
  }

  const featureId = (f) => (f.id != null ? f.id : f.properties.id);

  function sortQueue() {
    state.queue.sort((a, b) => a.properties.priority - b.properties.priority
      || Date.parse(a.properties.received_at) - Date.parse(b.properties.received_at) || featureId(a) - featureId(b));
  }

  /* A live report (incidents/representations.py incident_public, the queue's feature properties) put in the
     queue where the server would list it: by priority, then oldest first; gone once it is no longer open. Only when
     newer than the state shown (messages from two server processes may come in either order); false when not. */
  function applyToQueue(report) {
    if (!S.newer(report, seen[report.id])) return false;
    const at = state.queue.findIndex((f) => featureId(f) === report.id);
    const listed = (cfg.open_statuses || []).includes(report.status);
    const feature = { type: "Feature", id: report.id, geometry: report.location, properties: report };
    seen[report.id] = { version: report.version, listed, feature, turn: ++messageTurn };
    if (at >= 0 && listed) state.queue[at] = feature;
    else if (at >= 0) state.queue.splice(at, 1);
    else if (listed) state.queue.push(feature);
    sortQueue();
    renderQueue();
    return true;
  }

  function renderQueue() {
    reports.clearLayers();
    queueEl.innerHTML = state.queue.length ? "" : `<li class="empty">${esc(T.queue_empty)}</li>`;
    state.queue.forEach((f) => {
      const p = f.properties;
      const id = f.id != null ? f.id : p.id;
      const li = document.createElement("li");
      li.className = `report p${p.priority}` + (id === state.selected ? " selected" : "");
      li.dataset.id = id;
      const channel = p.channel === "whatsapp" ? '<span class="badge wa">WA</span>' : '<span class="badge">☎</span>';
      const offersBadge = (p.pending_offers || []).length
        ? `<span class="badge wa">${S.PIN_SVG} ${esc(T.whatsapp_location)}</span>` : "";
      const flags = (p.caller_flags || []).map((x) => `<span class="badge flag">${esc(x)}</span>`).join("")
        + (p.handoff_escalated ? `<span class="badge flag escalated">${esc(T.handoff_escalated_short)}</span>` : "");
      // A report saved with its address only is listed as such until someone locates it (then it is on the map).
      const unlocated = f.geometry ? "" : `<span class="badge unlocated">${esc(T.location_to_confirm)}</span>`;
      const where = p.kecamatan ? p.kecamatan.name : (f.geometry ? "–" : T.location_to_confirm);
      li.innerHTML = `${channel}<span class="ref">${esc(p.reference)}</span> · P${p.priority}
        <div class="type">${esc(typeName(p.incident_type))}</div>
        ${p.address_text ? `<div class="address">${esc(p.address_text)}</div>` : ""}
        <div class="meta">${esc(where)} · ${S.clock(p.received_at)}
        · ${esc(T[p.status] || p.status)}</div>${unlocated}${offersBadge}${flags}`;
      li.addEventListener("click", () => openReport(id));
      queueEl.appendChild(li);
      if (f.geometry) {
        const [lon, lat] = f.geometry.coordinates;
        L.circleMarker([lat, lon], {
          radius: 9, color: "#000", weight: 1.5, fillColor: S.PRIORITY_COLOURS[p.priority], fillOpacity: 0.9,
          className: `report-marker report-${id}`, pane: "reports",
        }).bindTooltip(`${esc(p.reference)} · ${esc(typeName(p.incident_type))}`)
          .on("click", () => openReport(id)).addTo(reports);
      }
    });
    S.markLoaded("reports", state.queue.length);
  }

  // ------------------------------------------------------------------ new report: found by its address, or a click

  /* The form opens in the panel; its search box finds the place, a click on the map or a drag puts the candidate
     where the caller is (report_forms.js). */
  document.getElementById("new-report").addEventListener("click", () => {
    state.selected = null; // no report's live update redraws the panel over the form
    state.report = null;
    routes.clearLayers();
    offers.clearLayers();
    renderQueue();
    panelEl.hidden = false;
    panelEl.scrollTop = 0;
    panelEl.innerHTML = forms.newReportHtml();
    forms.wireNewReport();
    ctx.map.getContainer().classList.add("crosshair");
    document.getElementById("place-hint").hidden = false;
    setTimeout(() => ctx.map.invalidateSize(), 0);
  });

  ctx.map.on("click", (event) => {
    if (closures.mapClicked(event.latlng)) return; // drawing a road closure takes the clicks
    forms.mapClicked(event.latlng);
  });

  function placingDone() {
    ctx.map.getContainer().classList.remove("crosshair");
    document.getElementById("place-hint").hidden = true;
  }

  // ------------------------------------------------------------------ the report panel

  async function openReport(id) {
    const another = state.selected !== id || panelEl.hidden;
    if (another) {
      state.notice = null;
      panelEl.scrollTop = 0;
      forms.candidateClear();
      placingDone();
    }
    state.selected = id;
    renderQueue();
    panelEl.hidden = false;
    // The same report drawn again (a live update, after a dispatch) stays on screen until its new state is in,
    // so the panel does not flicker and the confirmation at its top does not blink away.
    if (another) panelEl.innerHTML = `<p>${esc(T.loading)}</p>`;
    const turn = ++turns.report;
    try {
      const report = await api("GET", url("incident", { id }));
      if (turn !== turns.report || state.selected !== id) return;
      // Older than a message that came while it was read: read it again (the panel needs the detail's fields).
      if (seen[id] && !S.newer(report, seen[id], true)) { openReport(id); return; }
      state.report = report;
      renderPanel(report);
      drawOffers(report);
      loadRecommendations(report);
    } catch (err) {
      panelEl.innerHTML = `<p class="error">${esc(err.message)}</p>`;
    }
    setTimeout(() => ctx.map.invalidateSize(), 0);
  }

  function callerHtml(report) {
    const caller = report.caller;
    if (!report.caller_phone) return "";
    const flags = caller && caller.active_flags.length
      ? caller.active_flags.map((f) => `<span class="badge flag">${esc(f.kind)}: ${esc(f.reason)}</span>`).join(" ")
      : `<span class="badge">${esc(T.no_flags)}</span>`;
    const count = caller ? caller.reports.length : 0; // this report excluded
    const outcomes = caller ? Object.entries(caller.outcome_counts || {})
      .filter(([k, v]) => v > 0 && k !== "unknown").map(([k, v]) => `${esc(k)} ${v}`).join(", ") : "";
    return `<h3>${esc(T.caller_history)}</h3><p>${esc(report.caller_phone)} · ${count} ${esc(T.previous_reports)}
      ${outcomes ? `(${outcomes})` : ""}<br>${flags}</p>`;
  }

  function offersHtml(report) {
    const pending = (report.location_offers || []).filter((o) => !o.applied_at);
    if (!pending.length) return "";
    return `<h3>${esc(T.whatsapp_location)}</h3>` + pending.map((o) => {
      const [lon, lat] = o.location.coordinates;
      return `<div class="offer">${S.PIN_SVG} ${lat.toFixed(5)}, ${lon.toFixed(5)} ${esc(o.label || "")} · ${S.clock(o.received_at)}
        <br><button type="button" class="apply-offer primary" data-offer="${o.id}">${esc(T.apply_location)}</button></div>`;
    }).join("");
  }

  const PHASES = [["dispatched_at", "dispatched"], ["en_route_at", "en_route"], ["on_scene_at", "on_scene"],
    ["transporting_at", "transporting"], ["at_hospital_at", "at_hospital"], ["cleared_at", "cleared"],
    ["cancelled_at", "cancelled"]];

  /* One block per unit sent: its status now, the buttons to move it on, and the phase times so far. */
  function phasesHtml(report) {
    const seen = new Set(); // assignments come newest first; a unit's controls go on its newest one
    state.phasesMissUnits = (report.assignments || []).some((a) => !S.units[a.unit_id]);
    const blocks = (report.assignments || []).map((a) => {
      const unit = S.units[a.unit_id];
      const current = !seen.has(a.unit_id) && unit && (a.status === "active" || unit.status === "returning");
      seen.add(a.unit_id);
      const times = PHASES.filter(([field]) => a[field])
        .map(([field, key]) => `<tr><td>${esc(T[key])}</td><td>${S.clock(a[field])}</td></tr>`).join("");
      return `<div class="assignment" data-unit="${a.unit_id}"><b>${esc(a.unit)}</b>
        ${current ? `· <span class="unit-status">${esc(T[unit.status] || unit.status)}</span>${statusButtons(a.unit_id, a)}` : ""}
        ${handoffs.crewMessageHtml(a)}<table class="phases">${times}</table></div>`;
    }).join("");
    return `<h3>${esc(T.phases)}</h3><p>${esc(T.received)}: ${S.clock(report.received_at)}</p>${blocks}`;
  }

  // ------------------------------------------------------------------ unit status (incidents/services/status.py)

  /* Buttons for the statuses the state machine allows next (from the server's config), and any refusal.
     Before arrival a unit goes back to available only by cancelling its dispatch (the assignment's own action). */
  function statusButtons(unitId, assignment) {
    const unit = S.units[unitId];
    const next = (unit && (cfg.unit_next_statuses || {})[unit.status]) || [];
    const cancellable = unit && assignment && assignment.status === "active"
      && (cfg.cancellable_statuses || []).includes(unit.status);
    const error = state.statusErrors[unitId];
    return `<div class="status-buttons" data-unit="${unitId}">` + next.map((s) => `<button type="button"
      class="set-status" data-unit="${unitId}" data-status="${s}">→ ${esc(T[s] || s)}</button>`).join(" ")
      + (cancellable ? `<button type="button" class="set-status cancel-dispatch" data-unit="${unitId}"
        data-assignment="${assignment.id}">✕ ${esc(T.cancel_dispatch)}</button>` : "")
      + (error ? `<p class="error status-error">${esc(error)}</p>` : "") + "</div>";
  }

  async function setStatus(button) {
    const unitId = Number(button.dataset.unit);
    button.closest(".status-buttons").querySelectorAll("button").forEach((b) => { b.disabled = true; });
    delete state.statusErrors[unitId];
    try {
      if (button.dataset.assignment) await api("POST", url("assignment_cancel", { id: button.dataset.assignment }), {});
      else await api("POST", url("unit_status", { id: unitId }), { status: button.dataset.status });
    } catch (err) {
      state.statusErrors[unitId] = err.message; // e.g. 409: the unit changed meanwhile; say so, then show the truth
    }
    await loadUnits();
    if (state.selected) await readPhases(state.selected); // this console's own change: read its result
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.set-status");
    if (button) setStatus(button);
  });

  /* A one-time link (and QR code) that pairs a crew's phone with the unit's device (crew/api.py). */
  state.pairings = {}; // unit id -> the pairing answer shown under its row
  function pairingHtml(unitId) {
    if (!cfg.urls.crew_pairing) return "";
    const shown = state.pairings[unitId];
    const when = shown && new Date(shown.expires_at).toLocaleTimeString();
    return `<div class="crew-pairing" data-unit="${unitId}"><button type="button" class="pair-crew"
      data-unit="${unitId}">${esc(T.pair_crew)}</button>` + (shown ? `<div class="pairing-qr">${shown.qr_svg}</div>
      <p class="small">${esc(T.pair_crew_hint)} ${esc(when)}</p><input class="pairing-url" readonly
      value="${esc(shown.url)}">` : "") + "</div>";
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button.pair-crew");
    if (!button) return;
    const unitId = Number(button.dataset.unit);
    button.disabled = true;
    try {
      state.pairings[unitId] = await api("POST", cfg.urls.crew_pairing, { unit: unitId });
    } catch (err) {
      state.statusErrors[unitId] = err.message;
    }
    renderUnitList();
  });

  /* Every unit of the region with its status; a click opens its status buttons (out of service, back). */
  function renderUnitList() {
    if (!unitListEl) return;
    const list = Object.values(S.units).sort((a, b) => String(a.call_sign).localeCompare(String(b.call_sign)));
    unitListEl.innerHTML = "";
    list.forEach((unit) => {
      const li = document.createElement("li");
      li.className = "unit" + (unit.id === state.unitSelected ? " selected" : "");
      li.dataset.unit = unit.id;
      li.innerHTML = `<i style="background:${S.STATUS_COLOURS[unit.status] || "#555"}"></i><b>${esc(unit.call_sign)}</b>
        · <span class="unit-status">${esc(T[unit.status] || unit.status)}</span>`
        + (unit.id === state.unitSelected ? statusButtons(unit.id) + pairingHtml(unit.id) : "");
      li.addEventListener("click", (event) => {
        if (event.target.closest("button")) return;
        state.unitSelected = state.unitSelected === unit.id ? null : unit.id;
        renderUnitList();
      });
      unitListEl.appendChild(li);
    });
  }

  async function loadUnits() {
    await S.loadUnits(ctx);
    renderUnitList();
    // A report opened before its units had loaded drew their assignments without status buttons: draw them
    // again now (only then: otherwise the report's own refresh redraws them, with the phase times to match).
    const el = document.getElementById("phases");
    if (el && state.phasesMissUnits && state.report && state.report.id === state.selected) {
      el.innerHTML = phasesHtml(state.report);
    }
  }

  const finished = (report) => report.status === "closed" || report.status === "cancelled";
  // The report form and the capability chooser (report_forms.js), drawn into this panel.
  const forms = window.SiagaReportForms({
    state, finished, loadQueue, map: ctx.map, closePanel: () => closePanel(),
    redraw: (report) => { renderPanel(report); loadRecommendations(report); },
    reopen: (id) => openReport(id),
    refreshRecommendations: (report) => loadRecommendations(report),
  });
  const { editState, editFormHtml, wireEditForm, askHtml, wireAsk } = forms;
  const handoffs = window.SiagaHandoffs({ reopen: (id) => openReport(id) });
  // Road closures change every ETA: the open report's recommended units are asked again when one starts or lifts.
  const closures = window.SiagaClosures(ctx, {
    editable: true, // this page opens only where the user may dispatch, which closing roads is
    changed: () => { if (state.report && state.selected === state.report.id) loadRecommendations(state.report); },
  });
  state.closures = closures.byId; // for the end-to-end tests

  function renderPanel(report) {
    const where = report.kecamatan
      ? `${esc(report.kecamatan.name)}${report.kelurahan ? " / " + esc(report.kelurahan.name) : ""}`
      : esc(report.location ? "–" : T.location_to_confirm);
    // An address nobody typed is the name of the place at the report's point (reverse geocoding): say so.
    const fromMap = report.address_source === "reverse" ? ` <small class="hint">(${esc(T.address_from_map)})</small>` : "";
    // The confirmation of what was just done sits at the top, where it is seen without scrolling.
    const notice = state.notice && state.notice.id === report.id
      ? `<p id="panel-notice" class="panel-notice" role="status">${esc(state.notice.text)}</p>` : "";
    const editing = editState(report).open;
    panelEl.innerHTML = `${notice}<div class="pane-head"><h2>${esc(report.reference)}</h2>
      <span>${finished(report) || editing ? "" : `<button type="button" id="edit-report">${esc(T.edit)}</button>`}
      <button type="button" class="close-panel">✕</button></span></div>
      <dl><dt>${esc(T.status)}</dt><dd id="report-status">${esc(T[report.status] || report.status)}</dd>
      <dt>${esc(T.kecamatan)}</dt><dd id="report-kecamatan">${where}</dd>
      ${editing ? "" : `<dt>${esc(T.type)}</dt><dd id="report-type">${esc(typeName(report.incident_type))}</dd>
      <dt>${esc(T.priority)}</dt><dd id="report-priority">P${report.priority}</dd>
      <dt>${esc(T.address)}</dt><dd id="report-address">${esc(report.address_text || "–")}${fromMap}</dd>
      <dt>${esc(T.caller_name)}</dt><dd id="report-caller-name">${esc(report.caller_name || "–")}</dd>
      <dt>${esc(T.description)}</dt><dd id="report-description">${esc(report.description || "–")}</dd>`}</dl>
      ${editing ? editFormHtml(report) : ""}
      ${forms.locateHtml(report)}${offersHtml(report)}${callerHtml(report)}
      <h3>${esc(T.recommended)}</h3>${askHtml(report)}<div id="recommendations">${esc(T.loading)}</div>
      <div id="phases">${phasesHtml(report)}</div><div id="handoffs">${handoffs.html(report)}</div>
      ${closeFormHtml(report)}`;
    panelEl.querySelector(".close-panel").addEventListener("click", closePanel);
    const editButton = panelEl.querySelector("#edit-report");
    if (editButton) editButton.addEventListener("click", () => {
      state.edit = { id: report.id, open: true, values: null, error: "" };
      renderPanel(report);
      loadRecommendations(report);
    });
    wireEditForm(report);
    forms.wireLocate(report);
    wireAsk(report);
    wireCloseForm(report);
    handoffs.wire(report);
    panelEl.querySelectorAll(".apply-offer").forEach((button) => button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await api("POST", url("offer_apply", { id: report.id, offer: button.dataset.offer }));
      } catch (err) { // e.g. 409: already applied, or the point is outside the region
        button.insertAdjacentHTML("afterend", `<p class="error">${esc(err.message)}</p>`);
        return;
      }
      await loadQueue();
      openReport(report.id);
    }));
  }

  // ------------------------------------------------------------------ closing the report (its outcome, a note)

  function closeFormHtml(report) {
    if (report.status === "closed" || report.status === "cancelled") return "";
    const outcomes = (cfg.closing_outcomes || []).map((o) => `<option value="${esc(o)}">${esc(T["outcome_" + o] || o)}</option>`);
    return `<form id="close-report-form"><h3>${esc(T.close_report)}</h3><div class="form-grid">
      <label for="cr-outcome">${esc(T.outcome)}</label><select id="cr-outcome" name="outcome">${outcomes.join("")}</select>
      <label for="cr-note">${esc(T.note)}</label>
      <textarea id="cr-note" name="note" rows="2" placeholder="${esc(T.optional)}"></textarea></div>
      <p><button type="submit">${esc(T.close_report)}</button></p><p class="error"></p></form>`;
  }

  /* A live update re-renders the panel; the half-filled form and a refusal survive it (state.closeDraft). */
  function wireCloseForm(report) {
    const form = document.getElementById("close-report-form");
    if (!form) return;
    const draft = state.closeDraft && state.closeDraft.id === report.id ? state.closeDraft : { id: report.id };
    state.closeDraft = draft;
    if (draft.outcome) form.outcome.value = draft.outcome;
    form.note.value = draft.note || "";
    form.querySelector(".error").textContent = draft.error || "";
    form.addEventListener("input", () => Object.assign(draft, { outcome: form.outcome.value, note: form.note.value }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      draft.error = "";
      try {
        await api("POST", url("incident_close", { id: report.id }), { outcome: form.outcome.value, note: form.note.value });
        state.closeDraft = null;
        closePanel();
        document.getElementById("queue-note").textContent = `${T.report_closed}: ${report.reference}`;
        await loadQueue();
      } catch (err) {
        draft.error = err.message; // e.g. 409: units are still assigned
        form.querySelector(".error").textContent = err.message;
        button.disabled = false;
      }
    });
  }

  function closePanel() {
    state.selected = null;
    panelEl.hidden = true;
    forms.candidateClear();
    placingDone();
    routes.clearLayers();
    offers.clearLayers();
    renderQueue();
    setTimeout(() => ctx.map.invalidateSize(), 0);
  }

  function drawOffers(report) {
    offers.clearLayers();
    const own = report.location && report.location.coordinates;
    (report.location_offers || []).filter((o) => !o.applied_at).forEach((o) => {
      const [lon, lat] = o.location.coordinates;
      L.circleMarker([lat, lon], { radius: 8, color: "#128c4b", weight: 3, fillColor: "#25d366", fillOpacity: 0.8 })
        .bindTooltip(`${esc(T.whatsapp_location)} ${esc(o.label || "")}`).addTo(offers);
      if (own) L.polyline([[own[1], own[0]], [lat, lon]], { color: "#128c4b", dashArray: "4 4" }).addTo(offers);
    });
  }

  async function loadRecommendations(report) {
    routes.clearLayers();
    const box = () => document.getElementById("recommendations");
    if (!report.location || report.status === "closed") {
      if (box()) box().textContent = "–";
      return;
    }
    const asked = state.asked && state.asked.id === report.id ? state.asked.capabilities : [];
    const query = asked.length ? `&capabilities=${asked.map(encodeURIComponent).join(",")}` : "";
    const turn = ++turns.recommendations;
    try {
      const result = await api("GET", `${url("recommendations", { id: report.id })}?routes=1${query}`);
      if (turn !== turns.recommendations || state.selected !== report.id || !box()) return;
      state.recommendation = result;
      showRecommendations(report, result);
    } catch (err) {
      if (turn !== turns.recommendations) return;
      // An untyped report: what to do is on this panel (the form, the chooser); the API's hint is for programs.
      const text = err.code === "incident_type_missing" ? cfg.errors[err.code] : err.message;
      if (box()) box().innerHTML = `<span class="error">${esc(text)}</span>`;
    }
  }

  /* Recommendations already computed, drawn into the panel (again, after a live update redrew it). */
  function showRecommendations(report, result) {
    const box = document.getElementById("recommendations");
    if (!box) return;
    box.innerHTML = result.needs.map((need) => needHtml(need, result.max_eta_s)).join("") || esc(T.no_recommendation);
    box.querySelectorAll(".dispatch").forEach((button) => button.addEventListener("click", () => dispatch(report, button)));
    routes.clearLayers();
    drawRoutes(result);
  }

  /* The whole trip: by road, plus the off-road legs at both ends (all of it for a unit at the door). */
  function tripMetres(s) {
    return s.distance_m == null ? null : s.distance_m + (s.access_m || 0);
  }

  /* The vehicle profile beside a unit that is not a car (its roads and speeds differ), and the walk or hose
     lay from where its vehicle stops, shown apart under the ETA it is part of. */
  function profileHtml(s) {
    return s.profile && s.profile !== "car" ? ` <small class="profile">${esc(T["profile_" + s.profile] || s.profile)}</small>` : "";
  }
  function onFootHtml(s) {
    return s.access_on_foot_s > 0
      ? `<br><small class="on-foot" title="${esc(T.on_foot_hint)}">${esc(T.on_foot)} ${S.minutes(s.access_on_foot_s)}</small>`
      : "";
  }

  /* A unit beyond the longest useful ETA was not searched to the end: "> 15.0 min" and its straight-line distance.
     It can still be sent (the dispatch computes its own ETA). */
  function beyond(s) {
    return s.eta_s == null && s.reason_code === "beyond_max_eta";
  }
  function etaHtml(s, maxEtaS) {
    if (!beyond(s)) return `${S.minutes(s.eta_s)}${onFootHtml(s)}`;
    return `<span title="${esc(T.beyond_max_eta)}">&gt; ${S.minutes(maxEtaS)}</span>`;
  }
  function distanceHtml(s) {
    if (!beyond(s)) return S.km(tripMetres(s));
    return `${S.km(s.straight_line_m)}<br><small>${esc(T.straight_line)}</small>`;
  }

  /* One group per need, under the capability's name in the page's language (its code beside it, small). */
  function needHtml(need, maxEtaS) {
    const rows = need.suggestions.slice(0, 5).map((s) => `<tr data-unit="${s.unit}">
      <td><b>${esc(s.call_sign)}</b>${profileHtml(s)}<br><small>${esc(s.agency_name || s.agency)}</small></td>
      <td>${etaHtml(s, maxEtaS)}</td><td>${distanceHtml(s)}</td>
      <td><button type="button" class="dispatch primary" data-unit="${s.unit}" data-capability="${esc(need.capability)}"
        ${s.eta_s == null && !beyond(s) ? "disabled" : ""}>${esc(T.dispatch)}</button></td></tr>`).join("");
    return `<div class="need" data-capability="${esc(need.capability)}"><span class="need-name">${esc(capabilityName(need.capability))}</span>
      ${need.optional ? ` (${esc(T.optional)})` : ""}
      <table><tr><th></th><th>${esc(T.eta)}</th><th>${esc(T.distance)}</th><th></th></tr>
      ${rows || `<tr><td colspan="4">${esc(T.no_recommendation)}</td></tr>`}</table></div>`;
  }

  function drawRoutes(result) {
    routes.clearLayers();
    result.needs.forEach((need) => need.suggestions.forEach((s, rank) => {
      if (!s.route) return;
      const latlngs = s.route.coordinates.map(([lon, lat]) => [lat, lon]);
      L.polyline(latlngs, { color: rank === 0 ? "#1f6f9f" : "#7fb3d5", weight: rank === 0 ? 5 : 3, opacity: 0.85 })
        .bindTooltip(`${esc(s.call_sign)} · ${S.minutes(s.eta_s)}`).addTo(routes);
      if (s.reachable_point && result.destination) {  // the rest on foot: dashed, from where the vehicle stops
        const [lon, lat] = s.reachable_point, [dlon, dlat] = result.destination;
        L.polyline([[lat, lon], [dlat, dlon]], { color: "#b03a2e", weight: 3, dashArray: "4 6", opacity: 0.9 })
          .bindTooltip(`${esc(T.on_foot)} ${S.minutes(s.access_on_foot_s)}`).addTo(routes);
      }
    }));
  }

  async function dispatch(report, button) {
    button.disabled = true;
    try {
      await api("POST", url("assignments", { id: report.id }), {
        unit_id: Number(button.dataset.unit), capability: button.dataset.capability,
      });
      button.textContent = T.dispatched;
      const row = button.closest("tr");
      const callSign = row ? row.querySelector("b").textContent : button.dataset.unit;
      state.notice = { id: report.id, text: `${T.dispatched}: ${callSign} → ${report.reference}` };
      await Promise.all([loadQueue(), loadUnits()]);
      await openReport(report.id);
      panelEl.scrollTop = 0; // the confirmation is at the top of the panel
    } catch (err) {
      button.disabled = false;
      button.insertAdjacentHTML("afterend", `<br><span class="error">${esc(err.message)}</span>`);
    }
  }

  // ------------------------------------------------------------------ live

  /* incidents/live/messages.py messages: a unit moved or changed status; a report changed (created, located, dispatched). */
  function onLiveMessage(message) {
    if (S.unitMessage(ctx, message)) {
      renderUnitList();
      const assignment = message.unit.assignment;
      if (assignment && assignment.incident_id === state.selected) refreshPhases(state.selected);
      return;
    }
    if (closures.onMessage(message)) return; // redrawn; the open report's ETAs asked again (closuresChanged)
    if (message.type !== "incident" || !message.incident) return;
    if (!applyToQueue(message.incident)) return; // older than what is shown
    if (message.incident.id === state.selected) applyToPanel(message.incident);
  }

  /* A unit of the open report changed status: its controls are drawn again from what the page holds (the
     phase times come with the report's own message, which the same change sends). */
  function refreshPhases(id) {
    const el = document.getElementById("phases");
    if (el && state.report && state.report.id === id) el.innerHTML = phasesHtml(state.report);
  }

  /* The open report read again for its phase times (after this console's own status change, whose live
     message may be late or, with the socket down, never come). */
  async function readPhases(id) {
    const turn = ++turns.report;
    const report = await api("GET", url("incident", { id }));
    if (turn !== turns.report || state.selected !== id) return;
    if (state.report && !S.newer(report, state.report, true)) return; // a newer message already drew it
    state.report = report;
    refreshPhases(id);
  }

  // What the recommendations depend on, of the report itself (units' own moves do not re-rank a list on screen).
  const rankedOn = (r) => JSON.stringify([r.location, r.incident_type, r.status,
    (r.assignments || []).map((a) => [a.id, a.status])]);

  /* The open report's live message: the panel is drawn from the payload. The report is read again only for
     what the message does not carry (the offers' details, the caller's history), and recommendations, which
     cost a routing run per console, only when what they rank on changed. */
  function applyToPanel(report) {
    const before = state.report;
    if (!before || before.id !== report.id || !S.newer(report, before)) return;
    const offersChanged = JSON.stringify(before.pending_offers) !== JSON.stringify(report.pending_offers);
    if (offersChanged || before.caller_phone !== report.caller_phone) {
      openReport(report.id);
      return;
    }
    const merged = { ...before, ...report };
    state.report = merged;
    renderPanel(merged);
    drawOffers(merged);
    const shown = state.recommendation && state.recommendation.incident === merged.id;
    if (rankedOn(before) !== rankedOn(merged) || !shown) loadRecommendations(merged);
    else showRecommendations(merged, state.recommendation);
  }

  async function poll() {
    await Promise.all([loadQueue(), loadUnits(), closures.load()]).catch((err) => console.warn(err));
  }

  S.loadBasemap(ctx).catch((err) => console.error(err));
  if (cfg.region) {
    S.loadStations(ctx).catch((err) => console.warn("stations:", err.message));
    loadUnits().catch((err) => console.warn("units:", err.message));
    loadQueue().catch((err) => console.warn("queue:", err.message));
    closures.load().catch((err) => console.warn("closures:", err.message));
    S.live(onLiveMessage, poll);
  }
})();
