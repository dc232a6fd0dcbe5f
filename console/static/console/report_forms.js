/* The dispatcher's report panel forms: a new report found by its address (the place search, a candidate
   marker to drag; POST /api/incidents/), locating a report saved with its address only (PATCH .../location/),
   what the call taker learns about a report (type, priority, caller name, address, description: PATCH
   /api/incidents/<id>/), and units asked for by capability (the way to recommend for a report without a
   type). Plain script, loaded before dispatcher.js, which draws these into its panel and hands over its state
   and how to redraw. */
"use strict";

window.SiagaReportForms = function (hooks) {
  const S = window.Siaga;
  const { cfg, T, api, url, escapeHtml: esc } = S;
  const { state, finished, map } = hooks;
  const round6 = (x) => Number(x.toFixed(6));

  // ------------------------------------------------------------------ place search (GET cfg.urls.search)

  const SEARCH_DELAY_MS = 200;
  const SEARCH_MIN_CHARS = 2; // the API's own minimum (gazetteer/api/views.py)

  /* What the address box says once a place is picked: its name and the kelurahan (else kecamatan) it is in. */
  function placeLabel(place) {
    if (place.kind === "kecamatan") return place.name;
    if (place.kind === "kelurahan") return place.kecamatan ? `${place.name}, Kecamatan ${place.kecamatan}` : place.name;
    const area = place.kelurahan || (place.kecamatan && `Kecamatan ${place.kecamatan}`);
    return area ? `${place.name}, ${area}` : place.name;
  }

  /* One search box: suggestions while typing (after a pause), applied in the order they were asked for, so a
     slow answer to an older query never replaces a newer one's; the arrow keys and Enter (or a click) pick one.
     Enter never submits the form: the call taker saves with the button. */
  function placeSearch(input, list, { onPick, near }) {
    let asked = 0, applied = 0, timer = null, results = [], active = -1, note = "";
    function show() {
      const items = results.map((p, i) => `<li role="option" id="${list.id}-${i}" data-index="${i}"
        aria-selected="${i === active}" class="${i === active ? "active" : ""}"><b>${esc(p.name)}</b>
        <small>${esc(T["kind_" + p.kind] || p.kind)}${p.kelurahan && p.kind !== "kelurahan" ? ` · ${esc(p.kelurahan)}` : ""}${
        p.kecamatan && p.kind !== "kecamatan" ? `, ${esc(p.kecamatan)}` : ""}</small></li>`);
      list.innerHTML = items.join("") + (note ? `<li class="note">${esc(note)}</li>` : "");
      list.hidden = !items.length && !note;
      input.setAttribute("aria-expanded", String(items.length > 0));
      if (active >= 0) input.setAttribute("aria-activedescendant", `${list.id}-${active}`);
      else input.removeAttribute("aria-activedescendant");
    }
    function clear() {
      clearTimeout(timer);
      applied = ++asked; // an answer still on its way is now stale
      results = [];
      active = -1;
      note = "";
      show();
    }
    async function ask(query) {
      const seq = ++asked;
      const params = new URLSearchParams({ q: query, limit: "8" });
      const point = near ? near() : null;
      if (point) params.set("near", `${point[0]},${point[1]}`);
      let found = [], text = "";
      try {
        found = (await api("GET", `${cfg.urls.search}?${params}`)).results;
        if (!found.length) text = T.no_places_found;
      } catch (err) {
        text = err.message;
      }
      if (seq <= applied) return; // the answer to a newer query is on screen already
      applied = seq;
      [results, active, note] = [found, found.length ? 0 : -1, text];
      list.dataset.query = query; // which query the list answers (for people debugging, and the browser tests)
      show();
    }
    function pick(index) {
      const place = results[index];
      input.value = placeLabel(place);
      clear();
      onPick(place);
    }
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const query = input.value.trim();
      if (query.length < SEARCH_MIN_CHARS) return clear();
      timer = setTimeout(() => ask(query), SEARCH_DELAY_MS);
      return undefined;
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!results.length) return;
        event.preventDefault();
        active = (active + (event.key === "ArrowDown" ? 1 : -1) + results.length) % results.length;
        show();
      } else if (event.key === "Enter") {
        event.preventDefault();
        if (active >= 0) pick(active);
      } else if (event.key === "Escape") {
        clear();
      }
    });
    list.addEventListener("mousedown", (event) => {
      const item = event.target.closest("li[data-index]");
      if (!item) return;
      event.preventDefault(); // keep the focus in the box
      pick(Number(item.dataset.index));
    });
    input.addEventListener("blur", clear);
    return { ask, clear };
  }

  // ------------------------------------------------------------------ the candidate location on the map

  /* A draggable marker: where a picked place or a click put it, moved by the call taker to refine it (then the
     point is theirs: source "dispatcher"). Below it, what is there (GET cfg.urls.reverse), answers in order. */
  const candidate = { marker: null, lonlat: null, source: null, onChange: null, asked: 0, place: "" };
  state.candidate = candidate; // for debugging and the end-to-end tests

  function candidateSet(lonlat, source, { fly = false } = {}) {
    const latlng = L.latLng(lonlat[1], lonlat[0]);
    if (!candidate.marker) {
      const icon = L.divIcon({ className: "candidate-marker", html: S.PIN_SVG, iconSize: [26, 34], iconAnchor: [13, 34] });
      candidate.marker = L.marker(latlng, { icon, draggable: true, autoPan: true, pane: "reports", title: T.drag_to_refine });
      candidate.marker.on("dragend", () => {
        const p = candidate.marker.getLatLng();
        candidateMoved([round6(p.lng), round6(p.lat)], "dispatcher");
      });
      candidate.marker.addTo(map);
    } else {
      candidate.marker.setLatLng(latlng);
    }
    if (fly) map.flyTo(latlng, Math.max(map.getZoom(), 17), { duration: 0.5 });
    candidateMoved(lonlat.map(round6), source);
  }

  async function candidateMoved(lonlat, source) {
    Object.assign(candidate, { lonlat, source, place: "" });
    if (candidate.onChange) candidate.onChange();
    const seq = ++candidate.asked;
    let place = "";
    try {
      place = (await api("GET", `${cfg.urls.reverse}?lon=${lonlat[0]}&lat=${lonlat[1]}`)).display;
    } catch (err) {
      place = err.message; // e.g. outside the region: the save will say so too
    }
    if (seq !== candidate.asked) return; // the marker moved again meanwhile
    candidate.place = place;
    if (candidate.onChange) candidate.onChange();
  }

  function candidateClear() {
    if (candidate.marker) candidate.marker.remove();
    Object.assign(candidate, { marker: null, lonlat: null, source: null, onChange: null, place: "" });
    candidate.asked += 1;
  }

  function locationStateText() {
    if (!candidate.lonlat) return T.location_none_yet;
    const [lon, lat] = candidate.lonlat;
    return `${T.location_on_map} (${lat.toFixed(5)}, ${lon.toFixed(5)})${candidate.place ? ` · ${candidate.place}` : ""}`;
  }

  /* A click on the map while a form that takes a location is open puts the candidate there. */
  function mapClicked(latlng) {
    if (!document.getElementById("new-report-form") && !document.getElementById("locate-form")) return false;
    candidateSet([latlng.lng, latlng.lat], "dispatcher");
    return true;
  }

  const nearCandidate = () => candidate.lonlat;

  // ------------------------------------------------------------------ a new report (POST /api/incidents/)

  function newReportHtml() {
    return `<form id="new-report-form" class="report-form" autocomplete="off">
      <div class="pane-head"><h2>${esc(T.new_report)}</h2><button type="button" class="cancel">✕</button></div>
      <div class="place-search"><label for="nr-address">${esc(T.address)}</label>
      <input id="nr-address" name="address_text" role="combobox" aria-autocomplete="list" aria-expanded="false"
        aria-controls="nr-suggestions" placeholder="${esc(T.search_placeholder)}">
      <ul id="nr-suggestions" class="suggestions" role="listbox" hidden></ul>
      <p id="nr-location" class="hint location-state" role="status"></p></div>
      <div class="form-grid">
      <label for="nr-type">${esc(T.type)}</label><select id="nr-type" name="incident_type" required>${typeOptions(null)}</select>
      <label for="nr-priority">${esc(T.priority)}</label>
      <select id="nr-priority" name="priority">${[1, 2, 3, 4].map((p) => `<option>${p}</option>`).join("")}</select>
      <label for="nr-channel">${esc(T.channel)}</label>
      <select id="nr-channel" name="channel"><option value="phone">☎ ${esc(T.phone)}</option>
        <option value="whatsapp">WhatsApp</option></select>
      <label for="nr-phone">${esc(T.caller_phone)}</label><input id="nr-phone" name="caller_phone" type="tel">
      <label for="nr-caller-name">${esc(T.caller_name)}</label><input id="nr-caller-name" name="caller_name" maxlength="128">
      <label for="nr-desc">${esc(T.description)}</label><textarea id="nr-desc" name="description" rows="2"></textarea>
      </div><p><button type="submit" class="primary">${esc(T.create)}</button>
      <button type="button" class="cancel">${esc(T.cancel)}</button></p><p class="error"></p></form>`;
  }

  /* Drawn into the panel by dispatcher.js; the address box searches, a pick or a click places the candidate,
     and without one the report is saved with its address only (it waits in the queue to be located). */
  function wireNewReport() {
    const form = document.getElementById("new-report-form");
    const stateEl = form.querySelector("#nr-location");
    candidateClear();
    candidate.onChange = () => { stateEl.textContent = locationStateText(); };
    candidate.onChange();
    const typeSelect = form.elements.incident_type;
    // No type is chosen for the call taker (the first type would be a guess); choosing one brings its priority.
    typeSelect.addEventListener("change", () => syncPriority(typeSelect, form.elements.priority));
    placeSearch(form.elements.address_text, form.querySelector("#nr-suggestions"), {
      near: nearCandidate, onPick: (place) => candidateSet(place.point, "geocoded", { fly: true }),
    });
    form.querySelectorAll(".cancel").forEach((b) => b.addEventListener("click", () => hooks.closePanel()));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = Object.fromEntries(new FormData(form));
      const body = { ...data, priority: Number(data.priority), region: cfg.region.slug };
      if (candidate.lonlat) Object.assign(body, { location: candidate.lonlat, location_source: candidate.source });
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const created = await api("POST", cfg.urls.incidents, body);
        candidateClear();
        await hooks.loadQueue();
        await hooks.reopen(created.id);
      } catch (err) {
        form.querySelector(".error").textContent = err.message;
        button.disabled = false;
      }
    });
    form.elements.address_text.focus();
  }

  // ------------------------------------------------------------------ locating a report saved with its address only

  /* The same search, started from the address the call taker wrote; a pick or a click, a drag, then confirm. The
     query typed survives the panel's redraws (state.locate); the candidate marker is on the map, not the panel. */
  function locateHtml(report) {
    if (report.location || finished(report)) return "";
    if (!state.locate || state.locate.id !== report.id) {
      state.locate = { id: report.id, query: report.address_text || "", error: "" };
    }
    return `<form id="locate-form" class="locate-form" autocomplete="off"><h3>${esc(T.locate_report)}</h3>
      <div class="place-search"><input id="lo-search" role="combobox" aria-autocomplete="list" aria-expanded="false"
        aria-controls="lo-suggestions" aria-label="${esc(T.address)}" placeholder="${esc(T.search_placeholder)}"
        value="${esc(state.locate.query)}"><ul id="lo-suggestions" class="suggestions" role="listbox" hidden></ul>
      <p id="lo-location" class="hint location-state" role="status"></p></div>
      <p><button type="submit" class="primary" ${candidate.lonlat ? "" : "disabled"}>${esc(T.confirm_location)}</button></p>
      <p class="error">${esc(state.locate.error)}</p></form>`;
  }

  function wireLocate(report) {
    const form = document.getElementById("locate-form");
    if (!form) return;
    const locate = state.locate;
    const input = form.querySelector("#lo-search");
    const button = form.querySelector("button[type=submit]");
    candidate.onChange = () => {
      form.querySelector("#lo-location").textContent = locationStateText();
      button.disabled = !candidate.lonlat;
    };
    candidate.onChange();
    const search = placeSearch(input, form.querySelector("#lo-suggestions"), {
      near: nearCandidate, onPick: (place) => candidateSet(place.point, "geocoded", { fly: true }),
    });
    input.addEventListener("input", () => { locate.query = input.value; });
    // Until a place is picked, the suggestions for what is in the box are shown (again after a redraw).
    if (!candidate.lonlat && locate.query.trim().length >= SEARCH_MIN_CHARS) search.ask(locate.query.trim());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!candidate.lonlat) return;
      button.disabled = true;
      try {
        await api("PATCH", url("incident_location", { id: report.id }), {
          location: candidate.lonlat, location_source: candidate.source,
        });
        candidateClear();
        state.locate = null;
        state.notice = { id: report.id, text: `${T.located}: ${report.reference}` };
        await hooks.loadQueue();
        await hooks.reopen(report.id);
      } catch (err) {
        locate.error = err.message; // e.g. outside the region
        form.querySelector(".error").textContent = err.message;
        button.disabled = false;
      }
    });
  }

  function typeOptions(selected) {
    return `<option value="">${esc(T.choose_type)}</option>` + (cfg.incident_types || []).map((t) => `<option
      value="${esc(t.code)}" data-priority="${t.default_priority}" ${t.code === selected ? "selected" : ""}>${esc(t.name)}</option>`).join("");
  }

  function syncPriority(typeSelect, prioritySelect) {
    const option = typeSelect.selectedOptions[0];
    if (option && option.value) prioritySelect.value = option.dataset.priority;
  }

  // ------------------------------------------------------------------ what the call taker learns (PATCH /api/incidents/<id>/)

  const EDIT_FIELDS = ["incident_type", "priority", "caller_name", "address_text", "description"];

  /* The report form is open by itself for a report with no type yet (a WhatsApp report): the type is what the
     recommendations need. Its values and a refusal survive re-renders until it is saved or cancelled. */
  function editState(report) {
    if (!state.edit || state.edit.id !== report.id) {
      state.edit = { id: report.id, open: !report.incident_type && !finished(report), values: null, error: "" };
    }
    if (finished(report)) state.edit.open = false;
    return state.edit;
  }

  function editFormHtml(report) {
    const v = state.edit.values || {
      incident_type: report.incident_type || "", priority: String(report.priority),
      caller_name: report.caller_name || "", address_text: report.address_text || "", description: report.description || "",
    };
    return `<form id="report-edit-form" class="report-form"><div class="form-grid">
      <label for="re-type">${esc(T.type)}</label><select id="re-type" name="incident_type">${typeOptions(v.incident_type)}</select>
      <label for="re-priority">${esc(T.priority)}</label><select id="re-priority" name="priority">${[1, 2, 3, 4].map(
        (p) => `<option ${String(p) === v.priority ? "selected" : ""}>${p}</option>`).join("")}</select>
      <label for="re-caller-name">${esc(T.caller_name)}</label>
      <input id="re-caller-name" name="caller_name" maxlength="128" value="${esc(v.caller_name)}">
      <label for="re-address">${esc(T.address)}</label><input id="re-address" name="address_text" value="${esc(v.address_text)}">
      <label for="re-desc">${esc(T.description)}</label>
      <textarea id="re-desc" name="description" rows="2">${esc(v.description)}</textarea></div>
      <p><button type="submit" class="primary">${esc(T.save)}</button>
      <button type="button" class="cancel">${esc(T.cancel)}</button></p><p class="error">${esc(state.edit.error)}</p></form>`;
  }

  function wireEditForm(report) {
    const form = document.getElementById("report-edit-form");
    if (!form) return;
    const edit = state.edit;
    const read = () => Object.fromEntries(EDIT_FIELDS.map((name) => [name, form.elements[name].value]));
    form.elements.incident_type.addEventListener("change", () => syncPriority(form.elements.incident_type, form.elements.priority));
    form.addEventListener("input", () => { edit.values = read(); });
    form.addEventListener("change", () => { edit.values = read(); });
    form.querySelector(".cancel").addEventListener("click", () => {
      state.edit = { id: report.id, open: false, values: null, error: "" };
      hooks.redraw(report);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = read();
      const current = { incident_type: report.incident_type || "", priority: String(report.priority),
        caller_name: report.caller_name || "", address_text: report.address_text || "", description: report.description || "" };
      // Only what changed: the server keeps the rest (a type chosen brings its priority, unless one is given).
      const changes = Object.fromEntries(EDIT_FIELDS.filter((name) => values[name] !== current[name])
        .filter((name) => !(name === "incident_type" && !values[name]))  // a type is chosen, never taken away
        .map((name) => [name, name === "priority" ? Number(values[name]) : values[name]]));
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        if (Object.keys(changes).length) await api("PATCH", url("incident", { id: report.id }), changes);
        state.edit = { id: report.id, open: false, values: null, error: "" };
        if (changes.incident_type) state.asked = null; // a type chosen: recommend what it needs
        state.notice = { id: report.id, text: `${T.saved}: ${report.reference}` };
        await hooks.loadQueue();
        await hooks.reopen(report.id);
      } catch (err) {
        edit.values = values;
        edit.error = err.message;
        form.querySelector(".error").textContent = err.message;
        button.disabled = false;
      }
    });
  }

  // ------------------------------------------------------------------ units by an asked capability

  /* Units for a capability the dispatcher names: the only way to recommend for a report without a type, and a
     way to find one more unit for a typed one. "— choose —" goes back to what the report's type needs. */
  function askHtml(report) {
    if (!report.location || finished(report)) return "";
    const asked = state.asked && state.asked.id === report.id ? state.asked.capabilities : [];
    const options = (cfg.capabilities || []).map((c) => `<option value="${esc(c.code)}"
      ${asked.includes(c.code) ? "selected" : ""}>${esc(c.name)}</option>`).join("");
    return `<form class="ask-capability" id="ask-capability-form"><label for="ask-capability">${esc(T.find_units_with)}</label>
      <select id="ask-capability" name="capability"><option value="">${esc(T.choose_capability)}</option>${options}</select>
      <button type="submit" id="find-units">${esc(T.find)}</button></form>`;
  }

  function wireAsk(report) {
    const form = document.getElementById("ask-capability-form");
    if (!form) return;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const code = form.elements.capability.value;
      state.asked = code ? { id: report.id, capabilities: [code] } : null;
      hooks.refreshRecommendations(report);
    });
  }

  return {
    typeOptions, syncPriority, editState, editFormHtml, wireEditForm, askHtml, wireAsk,
    newReportHtml, wireNewReport, locateHtml, wireLocate, mapClicked, candidateClear, placeLabel,
  };
};
