/* Siaga console: the shared map (offline basemap from the project's own GeoJSON), API calls, live link.
   Plain script, no build step; pages add dispatcher.js or planner.js on top. */
"use strict";

window.Siaga = (function () {
  const configEl = document.getElementById("console-config");
  const cfg = configEl ? JSON.parse(configEl.textContent) : {};
  const T = cfg.strings || {};
  const { newer } = window.SiagaVersions; // incidents/static/incidents/live_versions.js

  const STATUS_COLOURS = {
    available: "#2e8b57", dispatched: "#d35400", en_route: "#e67e22", on_scene: "#c0392b",
    transporting: "#8e44ad", at_hospital: "#8e44ad", returning: "#2980b9", out_of_service: "#7f8c8d",
  };
  const PRIORITY_COLOURS = { 1: "#c0392b", 2: "#e67e22", 3: "#d4ac0d", 4: "#3498db" };
  // An answer without the API's JSON error (a page's 403 or 404, a proxy): its code by HTTP status.
  const STATUS_CODES = { 401: "not_authenticated", 403: "permission_denied", 404: "not_found" };
  // A map pin drawn inline, so it shows without an emoji font (the pushpin emoji was an empty box there).
  const PIN_SVG = '<svg class="pin" viewBox="0 0 12 16" aria-hidden="true" focusable="false">'
    + '<path d="M6 0C2.7 0 0 2.6 0 5.9 0 10.3 6 16 6 16s6-5.7 6-10.1C12 2.6 9.3 0 6 0z" fill="currentColor"/>'
    + '<circle cx="6" cy="6" r="2.2" fill="#fff"/></svg>';

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  /* fetch JSON; an error response becomes an Error carrying the API's own message. */
  async function api(method, url, body) {
    const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    if (method !== "GET") options.headers["X-CSRFToken"] = csrfToken();
    const response = await fetch(url, options);
    const isJson = (response.headers.get("content-type") || "").includes("json");
    const data = isJson ? await response.json() : null;
    if (!response.ok) {
      const code = (data && data.error && data.error.code) || STATUS_CODES[response.status];
      const message = (data && data.error && data.error.message) || (data && data.detail) || "";
      // What the refusal means in the console's language, then the server's details (which name the unit or
      // field); a code the console does not know still gets a summary in the page's language, never a bare status.
      const errors = cfg.errors || {};
      const summary = errors[code] || (response.status >= 500 ? errors.server_error : errors.error) || T.error;
      const error = new Error(message && response.status < 500 ? `${summary}: ${message}` : `${summary} (${response.status})`);
      error.code = code;
      error.status = response.status;
      throw error;
    }
    return data;
  }

  /* An API address from the page config (console/selectors.py url_templates), placeholders filled:
     url("incident", { id: 7 }) gives the path of report 7. The scripts write no path of their own. */
  function url(name, params = {}) {
    const template = (cfg.urls || {})[name];
    if (!template) throw new Error(`no URL named ${name} in the page config`);
    return template.replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(params[key]));
  }

  function escapeHtml(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => (
      { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function minutes(seconds) {
    return seconds == null ? "–" : `${(seconds / 60).toFixed(1)} ${T.minutes}`;
  }

  function km(metres) {
    return metres == null ? "–" : `${(metres / 1000).toFixed(1)} ${T.km}`;
  }

  /* Times are shown in the region's zone with its abbreviation (WIB, WITA, WIT), whatever the browser's zone:
     an Ambon console reads 14:05 WIT wherever it is opened. The API's times are ISO 8601 in UTC. */
  const ZONE = (cfg.region && cfg.region.time_zone) || null;
  const LANG = document.documentElement.lang || undefined;
  const zoneOption = ZONE ? { timeZone: ZONE.name } : {};
  const timeFormat = new Intl.DateTimeFormat(LANG, { ...zoneOption, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const minuteFormat = new Intl.DateTimeFormat(LANG, { ...zoneOption, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const dayFormat = new Intl.DateTimeFormat(LANG, { ...zoneOption, day: "numeric", month: "short" });
  const dayKey = new Intl.DateTimeFormat("en-CA", { ...zoneOption, year: "numeric", month: "2-digit", day: "2-digit" });
  const zoneSuffix = ZONE ? ` ${ZONE.abbreviation}` : "";

  /* "14:05:09 WIT"; a time of another local day than today gets its date: "2 Des 23:50:01 WIT". */
  function clock(iso) {
    if (!iso) return "–";
    const when = new Date(iso);
    const day = dayKey.format(when) === dayKey.format(new Date()) ? "" : `${dayFormat.format(when)} `;
    return `${day}${timeFormat.format(when)}${zoneSuffix}`;
  }

  /* The header's clock (rendered by the server in the region's zone) keeps the region's time. */
  const clockEl = document.getElementById("region-clock");
  if (clockEl && ZONE) {
    const tick = () => { clockEl.textContent = `${minuteFormat.format(new Date())}${zoneSuffix}`; };
    tick();
    setInterval(tick, 15000);
  }

  /* Mark what has drawn, for people (title) and for the end-to-end tests (data attributes). */
  function markLoaded(name, count) {
    document.getElementById("map").dataset[name] = String(count);
  }

  const ROAD_WEIGHTS = { motorway: 4, trunk: 4, primary: 3.5, secondary: 3, tertiary: 2.5 };

  function roadStyle(feature) {
    const highway = String(feature.properties.highway || "").replace("_link", "");
    return { color: "#b9a98f", weight: ROAD_WEIGHTS[highway] || 1.5, opacity: 0.9 };
  }

  /* The map with the offline basemap drawn from the region's own layers; OSM tiles only as an option. */
  function createMap(elementId) {
    const map = L.map(elementId, { zoomControl: true, attributionControl: true });
    // Units and reports above the station icons (markerPane, z 600) so a unit at its station stays visible.
    map.createPane("units").style.zIndex = 640;
    map.createPane("reports").style.zIndex = 650;
    const offline = L.layerGroup().addTo(map);
    const osm = L.tileLayer(cfg.osm_tiles, { maxZoom: 19, attribution: "© OpenStreetMap contributors" });
    const layers = {
      kelurahan: L.geoJSON(null, {
        style: { color: "#9aa5ad", weight: 0.7, dashArray: "3 3", fill: false, className: "kelurahan" },
        onEachFeature: (f, l) => l.bindTooltip(escapeHtml(f.properties.name), { sticky: true }),
      }),
      kecamatan: L.geoJSON(null, {
        style: { color: "#4a5a66", weight: 2, fillColor: "#f7f5ef", fillOpacity: 0.55, className: "kecamatan" },
        onEachFeature: (f, l) => l.bindTooltip(escapeHtml(f.properties.name), { sticky: true }),
      }),
      // The offline roads are OpenStreetMap data (ODbL): the attribution shows whenever they are drawn.
      roads: L.geoJSON(null, { style: roadStyle, attribution: "© OpenStreetMap contributors" }),
      stations: L.layerGroup(),
      units: L.layerGroup(),
    };
    const overlays = {
      [T.kecamatan]: layers.kecamatan, [T.kelurahan]: layers.kelurahan, [T.roads]: layers.roads,
      [T.stations]: layers.stations, [T.units]: layers.units,
    };
    if (layers.labels) overlays[T.labels] = layers.labels;
    // Street, landmark and kelurahan names from the region's own name tiles (labels.js; dispatchers' pages).
    if (cfg.urls && cfg.urls.names_tiles && window.SiagaLabels) {
      const pane = map.createPane("labels");
      pane.style.zIndex = 450; // above the roads and areas, below the markers
      pane.style.pointerEvents = "none";
      layers.labels = window.SiagaLabels.layer(cfg.urls.names_tiles);
    }
    Object.values(layers).forEach((layer) => layer.addTo(map));
    const control = L.control.layers({ [T.offline_basemap]: offline, [T.osm_online]: osm }, overlays).addTo(map);
    const bbox = cfg.region && cfg.region.bbox;
    if (bbox) map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]]);
    else map.setView([-2.5, 118], 5);
    return { map, layers, control };
  }

  async function loadBasemap(ctx) {
    if (!cfg.region) {
      L.control.attribution({ prefix: T[cfg.region_missing] || T.no_region }).addTo(ctx.map);
      return;
    }
    const [kecamatan, kelurahan, roads] = await Promise.all([
      api("GET", cfg.urls.kecamatan), api("GET", cfg.urls.kelurahan), api("GET", cfg.urls.roads),
    ]);
    ctx.layers.kecamatan.addData(kecamatan);
    ctx.layers.kelurahan.addData(kelurahan);
    ctx.layers.roads.addData(roads);
    ctx.layers.kecamatan.bringToBack();
    markLoaded("kecamatan", kecamatan.features.length);
    markLoaded("kelurahan", kelurahan.features.length);
    markLoaded("roads", roads.features.length);
  }

  async function loadStations(ctx) {
    const data = await api("GET", cfg.urls.stations);
    ctx.layers.stations.clearLayers();
    (data.features || []).forEach((f) => {
      const [lon, lat] = f.geometry.coordinates;
      const p = f.properties;
      const icon = L.divIcon({ className: `station-icon station-${p.agency_kind || "other"}`, iconSize: [12, 12] });
      L.marker([lat, lon], { icon, keyboard: false })
        .bindTooltip(`${escapeHtml(p.name)}<br>${escapeHtml(p.agency_name || p.agency || "")}`)
        .addTo(ctx.layers.stations);
    });
    markLoaded("stations", (data.features || []).length);
  }

  /* Units keep one record each (by unit id) so live messages can move and recolour them; a unit with no
     position yet (no fix, no home station) is kept too, for the unit list, and gets its marker when one comes. */
  const units = {};

  function unitTooltip(unit) {
    const age = unit.position_age_s == null ? T.no_position
      : `${Math.round(unit.position_age_s + (Date.now() - unit.seenAt) / 1000)} ${T.seconds_ago}`;
    const fixTime = unit.position_recorded_at ? ` (${clock(unit.position_recorded_at)})` : "";
    return `<b>${escapeHtml(unit.call_sign)}</b> · ${escapeHtml(T[unit.status] || unit.status)}<br>`
      + `${escapeHtml(unit.agency_name || unit.agency || "")}<br>${T.position_age}: ${age}${fixTime}`;
  }

  /* Apply a unit's state (a feature's properties from /api/units/, or a live message's unit) unless it is older
     than the one shown (incidents/static/incidents/live_versions.js: a live message must be newer, a fresh read
     `freshRead` not older). Returns the unit, or null when the state was older and left unapplied. */
  function unitUpsert(ctx, id, props, lonlat, freshRead = false) {
    if (units[id] && !newer(props, units[id], freshRead)) return null;
    const unit = units[id] || (units[id] = { id, marker: null });
    if (!unit.marker && lonlat) {
      unit.marker = L.circleMarker([lonlat[1], lonlat[0]], {
        radius: 7, weight: 2, color: "#13344a", fillOpacity: 1, pane: "units",
      }).addTo(ctx.layers.units);
      unit.marker.bindTooltip(() => unitTooltip(unit));
    }
    Object.assign(unit, props);
    if ("position_age_s" in props) unit.seenAt = Date.now();
    if (!unit.marker) return unit;
    if (lonlat) unit.marker.setLatLng([lonlat[1], lonlat[0]]);
    unit.marker.setStyle({ fillColor: STATUS_COLOURS[unit.status] || "#555" });
    return unit;
  }

  async function loadUnits(ctx) {
    const data = await api("GET", cfg.urls.units);
    (data.features || []).forEach((f) => {
      const id = f.id != null ? f.id : f.properties.id;
      unitUpsert(ctx, id, f.properties, f.geometry ? f.geometry.coordinates : null, true);
    });
    markLoaded("units", Object.values(units).filter((unit) => unit.marker).length);
  }

  /* A live message about a unit (incidents/live/messages.py: {"type": "unit", "unit": {...}}): move and recolour it.
     The message's unit is the same dict as a feature's properties from /api/units/ (incidents/representations.py),
     placed by the same rule, so it is applied as it comes, when newer than what is shown: messages from two server
     processes may come in either order. True when it was a unit message (applied or not). */
  function unitMessage(ctx, message) {
    if (message.type !== "unit" || !message.unit) return false;
    const position = message.unit.position;
    unitUpsert(ctx, message.unit.id, message.unit, position ? [position.lon, position.lat] : null);
    return true;
  }

  /* The live link: WebSocket to the region's group; while it is down, poll every few seconds. */
  const liveStats = { received: 0, opened: 0 }; // messages and (re)connections so far, for the end-to-end tests
  function live(onMessage, onPoll, { pollMs = 3000, retryMs = 5000 } = {}) {
    const badge = document.getElementById("live-state");
    let pollTimer = null;
    function show(state) {
      if (!badge) return;
      badge.className = `live-state ${state}`;
      badge.textContent = state === "live" ? T.live : T.polling;
      document.body.dataset.live = state;
    }
    function startPolling() {
      show("polling");
      if (!pollTimer) pollTimer = setInterval(onPoll, pollMs);
    }
    function connect() {
      if (!cfg.urls || !("WebSocket" in window)) return startPolling();
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      let socket;
      try {
        // The WebSocket server may listen on its own port (scripts/serve.sh); else the page's host and port.
        const wsHost = cfg.ws_port ? `${location.hostname}:${cfg.ws_port}` : location.host;
        socket = new WebSocket(`${scheme}://${wsHost}${cfg.urls.ws}`);
      } catch (err) {
        startPolling();
        setTimeout(connect, retryMs);
        return undefined;
      }
      socket.onopen = () => {
        liveStats.opened += 1;
        clearInterval(pollTimer);
        pollTimer = null;
        show("live");
        // Catch up on what happened while the link was down: the units and the queue read again, applied by
        // version (a message that came meanwhile and is newer than the read stays).
        onPoll();
      };
      socket.onmessage = (event) => {
        liveStats.received += 1;
        try { onMessage(JSON.parse(event.data)); } catch (err) { console.error(err); }
      };
      socket.onclose = () => {
        startPolling();
        setTimeout(connect, retryMs);
      };
      return socket;
    }
    connect();
  }

  return {
    cfg, T, api, url, escapeHtml, minutes, km, clock, createMap, loadBasemap, loadStations, loadUnits,
    unitMessage, units, live, liveStats, newer, markLoaded, STATUS_COLOURS, PRIORITY_COLOURS, PIN_SVG,
  };
})();
