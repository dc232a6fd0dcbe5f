/* The report panel's hand-offs and crew messages: each leg handed to an agency without tracked units (its
   status, the agency's reference, an escalation when not acknowledged in time), the form to hand off (an
   agency of the region, or those the report's type needs: POST /api/incidents/<id>/handoffs/), the buttons
   for what the agency says by phone (POST /api/handoffs/<id>/), and whether the crew's WhatsApp message of a
   dispatch went out (an assignment's ``notification``). Plain script, loaded before dispatcher.js. */
"use strict";

window.SiagaHandoffs = function (hooks) {
  const S = window.Siaga;
  const { cfg, T, api, url, escapeHtml: esc } = S;
  const NEXT = { pending: ["acknowledged"], sent: ["acknowledged"], acknowledged: ["on_scene", "closed"], on_scene: ["closed"] };

  /* One line under an assignment: the crew's WhatsApp message, sent or not (incidents.representations). */
  function crewMessageHtml(a) {
    const n = a.notification;
    if (!n) return "";
    if (n.delivered) {
      const key = n.state === "read" ? "crew_message_read" : "crew_message_sent";
      return `<p class="crew-message ok" data-state="${esc(n.state)}">✓ ${esc(T[key])}</p>`;
    }
    const failing = n.state === "failed" || n.retrying;
    return `<p class="crew-message${failing ? " error" : ""}" data-state="${esc(n.state)}">${esc(
      failing ? T.crew_message_not_sent : T.crew_message_sending)}${failing && n.error ? ` <small>(${esc(n.error)})</small>` : ""}</p>`;
  }

  function legHtml(h) {
    const times = [["sent_at", "handoff_sent"], ["acknowledged_at", "handoff_acknowledged"],
      ["on_scene_at", "handoff_on_scene"], ["closed_at", "handoff_closed"]]
      .filter(([field]) => h[field]).map(([field, key]) => `${esc(T[key])} ${S.clock(h[field])}`).join(" · ");
    const buttons = (NEXT[h.status] || []).map((s) => `<button type="button" class="handoff-set"
      data-handoff="${h.id}" data-status="${s}">→ ${esc(T["handoff_" + s])}</button>`).join(" ");
    const undelivered = h.delivery && !h.delivery.delivered && (h.delivery.retrying || h.delivery.state === "failed");
    return `<div class="handoff${h.escalated ? " escalated" : ""}" data-handoff="${h.id}" data-status="${esc(h.status)}">
      <b>${esc(h.agency_name)}</b> · <span class="handoff-status">${esc(T["handoff_" + h.status] || h.status)}</span>
      ${h.agency_reference ? ` · ${esc(T.agency_reference)}: ${esc(h.agency_reference)}` : ""}
      ${h.escalated ? `<p class="error handoff-escalated">${esc(T.handoff_escalated)}</p>` : ""}
      ${undelivered ? `<p class="error">${esc(T.handoff_not_delivered)}</p>` : ""}
      ${times ? `<div class="meta">${times}</div>` : ""}<div class="handoff-buttons">${buttons}</div></div>`;
  }

  function html(report) {
    const legs = (report.handoffs || []).map(legHtml).join("");
    const open = report.status !== "closed" && report.status !== "cancelled";
    const options = (cfg.agencies || []).map((a) => `<option value="${esc(a.code)}">${esc(a.name)}</option>`).join("");
    const form = open ? `<form id="handoff-form" class="handoff-form">
      <select name="agency"><option value="">${esc(T.choose_agency)}</option>${options}
      ${report.incident_type ? `<option value="*">${esc(T.from_incident_type)}</option>` : ""}</select>
      <button type="submit">${esc(T.hand_off)}</button><span class="error" id="handoff-error"></span></form>` : "";
    return `<h3>${esc(T.handoffs)}</h3>${legs || `<p class="hint">–</p>`}${form}`;
  }

  function wire(report) {
    const panel = document.getElementById("report-panel");
    const form = panel.querySelector("#handoff-form");
    if (form) form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const agency = form.elements.agency.value;
      if (!agency) return;
      form.querySelector("button").disabled = true;
      try {
        await api("POST", url("handoffs", { id: report.id }), agency === "*" ? { from_incident_type: true } : { agency });
      } catch (err) { // e.g. 409: an open hand-off to that agency already
        form.querySelector("#handoff-error").textContent = err.message;
        form.querySelector("button").disabled = false;
        return;
      }
      hooks.reopen(report.id);
    });
    panel.querySelectorAll("button.handoff-set").forEach((button) => button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await api("POST", url("handoff_update", { id: button.dataset.handoff }), { status: button.dataset.status });
      } catch (err) {
        button.insertAdjacentHTML("afterend", `<span class="error">${esc(err.message)}</span>`);
        return;
      }
      hooks.reopen(report.id);
    }));
  }

  return { crewMessageHtml, html, wire };
};
