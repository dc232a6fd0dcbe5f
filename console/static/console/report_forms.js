/* The dispatcher's report panel forms: what the call taker learns about a report (type, priority, caller
   name, address, description: PATCH /api/incidents/<id>/), and units asked for by capability (the way to
   recommend for a report without a type). Plain script, loaded before dispatcher.js, which draws these into
   its panel and hands over its state and how to redraw. */
"use strict";

window.SiagaReportForms = function (hooks) {
  const { cfg, T, api, url, escapeHtml: esc } = window.Siaga;
  const { state, finished } = hooks;

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

  return { typeOptions, syncPriority, editState, editFormHtml, wireEditForm, askHtml, wireAsk };
};
