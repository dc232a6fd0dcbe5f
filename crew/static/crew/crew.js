/* Siaga crew page: one unit's job, its status buttons, its GPS; nothing lost without signal.

   State comes from GET /api/crew/state/ (on pairing, on a new job, on reconnect) and then from the
   unit's WebSocket (crew/consumers.py). Status changes and GPS fixes go into one outbox in IndexedDB,
   in the order made, and are sent from there in that order, each request with an Idempotency-Key, so a
   resend after a lost answer is never recorded twice (fleet/api/device_endpoint.py). */
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("crew-config").textContent);
  const S = cfg.strings;
  const { newer } = window.SiagaVersions; // incidents/static/incidents/live_versions.js
  const TOKEN_KEY = "siaga.crew.session";
  const MAX_BATCH = 50;
  const $ = (id) => document.getElementById(id);
  let token = localStorage.getItem(TOKEN_KEY);
  let state = null; // the last crew state (crew/selectors.py), with local changes applied
  let status = null; // the unit's status as the crew last set or heard it
  let socket = null;
  let watchId = null;
  let lastFix = null;
  let flushing = false;
  const counters = { alerts: 0, stateLoads: 0, fixes: 0 };

  // ---------------------------------------------------------------- outbox (IndexedDB)

  let dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const req = indexedDB.open("siaga-crew", 1);
        req.onupgradeneeded = () => req.result.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    }
    return dbPromise;
  }
  function tx(mode, work) {
    return db().then((d) => new Promise((resolve, reject) => {
      const t = d.transaction("outbox", mode);
      const store = t.objectStore("outbox");
      let result;
      Promise.resolve(work(store, (r) => { result = r; })).catch(reject);
      t.oncomplete = () => resolve(result);
      t.onerror = () => reject(t.error);
    }));
  }
  const outboxAll = () => tx("readonly", (store, done) => { store.getAll().onsuccess = (e) => done(e.target.result); });
  const outboxAdd = (item) => tx("readwrite", (store) => { store.add(item); });
  const outboxPut = (items) => tx("readwrite", (store) => { items.forEach((i) => store.put(i)); });
  const outboxDelete = (items) => tx("readwrite", (store) => { items.forEach((i) => store.delete(i.seq)); });

  function newKey() {
    return (crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random().toString(36).slice(2));
  }

  async function showPending() {
    const n = (await outboxAll()).length;
    const el = $("pending");
    el.dataset.count = String(n);
    el.textContent = n ? `${S.waiting}: ${n}` : S.sent_all;
  }

  async function post(url, body, key) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + token, "Idempotency-Key": key },
        body: JSON.stringify(body),
      });
      let data = null;
      try { data = await response.json(); } catch (e) { data = null; }
      return { status: response.status, data };
    } catch (e) {
      return { status: 0, data: null }; // no signal: stays queued
    }
  }

  /* Send what waits, oldest first, until it is empty or the network fails. Consecutive fixes go as one
     batch; a batch's grouping is written down before it is sent, so a resend is the same request. */
  async function flush() {
    if (flushing || !token) return;
    flushing = true;
    try {
      for (;;) {
        const items = await outboxAll();
        if (!items.length) break;
        const head = items[0];
        let group, answer;
        if (head.kind === "status") {
          group = [head];
          answer = await post(cfg.urls.status, head.body, head.key);
        } else {
          if (head.batch) {
            group = items.filter((i) => i.batch === head.batch);
          } else {
            group = [];
            for (const i of items) {
              if (i.kind !== "fix" || i.batch || group.length >= MAX_BATCH) break;
              group.push(i);
            }
            const batch = newKey();
            group.forEach((i) => { i.batch = batch; });
            await outboxPut(group);
          }
          answer = await post(cfg.urls.batch, { fixes: group.map((i) => i.body) }, group[0].batch);
        }
        if (answer.status === 0 || answer.status >= 500 || answer.status === 429) break; // try again later
        if (answer.status === 401) { unpair(); break; }
        await outboxDelete(group); // done: carried out, or refused for good (the server keeps the request)
        if (head.kind === "status") {
          if (answer.status >= 400) {
            refuse(answer.data);
            await loadState();
          } else {
            $("refusal").hidden = true;
          }
        }
      }
    } finally {
      flushing = false;
      showPending();
    }
  }

  // ---------------------------------------------------------------- state and rendering

  function unpair() {
    token = null;
    localStorage.removeItem(TOKEN_KEY);
    document.body.dataset.state = "unpaired";
    $("unpaired").hidden = false;
    $("job").hidden = true;
    $("buttons").innerHTML = "";
  }

  async function loadState() {
    let response;
    try {
      response = await fetch(cfg.urls.state, { headers: { Authorization: "Bearer " + token } });
    } catch (e) {
      return false; // offline: keep what is shown
    }
    if (response.status === 401 || response.status === 403) { unpair(); return false; }
    if (!response.ok) return false;
    const fresh = await response.json();
    // A read older than a live message applied while it was on its way (live_versions.js): read again.
    const sameJob = fresh.incident && state && state.incident && fresh.incident.id === state.incident.id;
    if (state && staleReads < 3 && (!newer(fresh.unit, state.unit, true)
        || (sameJob && !newer(fresh.incident, state.incident, true)))) {
      staleReads += 1;
      return loadState();
    }
    staleReads = 0;
    const previous = state && state.incident ? state.incident.id : null;
    state = fresh;
    counters.stateLoads += 1;
    status = state.unit.status;
    const now = state.incident ? state.incident.id : null;
    if (now !== null && now !== previous && !firstLoad) alertNewJob();
    firstLoad = false;
    render();
    connect();
    return true;
  }
  let firstLoad = true;
  let staleReads = 0;

  function alertNewJob() {
    counters.alerts += 1;
    document.body.dataset.alerts = String(counters.alerts);
    $("job-alert").hidden = false;
    setTimeout(() => { $("job-alert").hidden = true; }, 8000);
    if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 400]);
    try {
      const audio = new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.35, 0.7].forEach((t) => {
        const osc = audio.createOscillator();
        osc.frequency.value = 880;
        osc.connect(audio.destination);
        osc.start(audio.currentTime + t);
        osc.stop(audio.currentTime + t + 0.2);
      });
    } catch (e) { /* no sound on this phone: the vibration and the banner remain */ }
  }

  function text(id, value) {
    const el = $(id);
    el.textContent = value || "";
    el.hidden = !value;
  }

  function render() {
    document.body.dataset.state = "paired";
    document.body.dataset.status = status;
    $("unpaired").hidden = true;
    $("call-sign").textContent = state.unit.call_sign;
    $("unit-status").textContent = S[status] || status;
    $("unit-status").dataset.status = status;
    const inc = state.incident;
    $("job").hidden = !inc;
    $("no-job").hidden = !!inc;
    document.body.dataset.incident = inc ? String(inc.id) : "";
    if (inc) {
      $("job-title").textContent = inc.incident_type_name_id || inc.incident_type_name || inc.reference;
      text("job-priority", S["priority_" + inc.priority]);
      $("job-priority").dataset.priority = String(inc.priority);
      text("job-reference", inc.reference);
      const area = [inc.kelurahan && inc.kelurahan.name, inc.kecamatan && inc.kecamatan.name].filter(Boolean);
      text("job-address", [inc.address_text, ...area].filter(Boolean).join(", "));
      text("job-landmark", state.landmark ? `${S.landmark}: ${state.landmark}` : "");
      text("job-description", inc.description ? `${S.description}: ${inc.description}` : "");
      const caller = [inc.caller_name, inc.caller_phone].filter(Boolean).join(" · ");
      text("job-caller", caller ? `${S.caller}: ${caller}` : "");
      renderEta();
      renderNavigation(inc);
      renderOthers();
      drawMap();
    }
    renderButtons();
  }

  function renderEta() {
    const inc = state.incident;
    const mine = state.unit.assignment;
    const eta = mine && mine.current_eta_s != null ? mine.current_eta_s : state.route ? state.route.eta_s : null;
    const km = state.route ? ` · ${(state.route.length_m / 1000).toFixed(1)} km` : "";
    text("job-eta", inc && eta != null ? `${S.eta}: ${Math.max(1, Math.round(eta / 60))} ${S.minutes}${km}` : "");
    // Where the vehicle cannot drive to the report: it stops at reachable_point and the rest is on foot.
    const walk = inc && state.route && state.route.reachable_point && state.route.access_on_foot_s > 0 ? state.route : null;
    $("job-walk").hidden = !walk;
    text("job-walk", walk ? S.walk.replace("{minutes}", String(Math.max(1, Math.round(walk.access_on_foot_s / 60))))
      .replace("{metres}", String(Math.round(walk.access_on_foot_m))) : "");
  }

  function renderNavigation(inc) {
    const nav = $("navigate");
    const geo = $("navigate-geo");
    if (!inc.location) { nav.hidden = geo.hidden = true; return; }
    const [lon, lat] = inc.location.coordinates;
    nav.hidden = geo.hidden = false;
    nav.href = `https://www.google.com/maps/dir/?api=1&destination=${lat},${lon}&travelmode=driving`;
    geo.href = `geo:${lat},${lon}?q=${lat},${lon}(${encodeURIComponent(inc.reference)})`;
  }

  function renderOthers() {
    const mine = state.unit.id;
    const rows = (state.incident.assignments || []).filter((a) => a.status === "active" && a.unit_id !== mine);
    const el = $("others");
    el.innerHTML = "";
    if (!rows.length) return;
    const h = document.createElement("h2");
    h.textContent = S.others;
    el.appendChild(h);
    for (const a of rows) {
      const other = (state.others || []).find((u) => u.id === a.unit_id);
      const p = document.createElement("p");
      p.className = "other";
      p.dataset.unit = String(a.unit_id);
      const st = other ? other.status : null;
      const eta = a.current_eta_s != null ? ` · ${Math.round(a.current_eta_s / 60)} ${S.minutes}` : "";
      p.textContent = `${a.call_sign} (${a.agency_name})${st ? " · " + (S[st] || st) : ""}${eta}`;
      el.appendChild(p);
    }
  }

  /* A small SVG map without tiles: the route, the report, this unit and the others, fitted to the box. */
  function drawMap() {
    const svg = $("map");
    const inc = state.incident;
    const points = [];
    const route = state.route ? state.route.geometry.coordinates : [];
    route.forEach((c) => points.push(c));
    const dest = inc.location ? inc.location.coordinates : null;
    if (dest) points.push(dest);
    const stop = state.route && state.route.access_on_foot_s > 0 ? state.route.reachable_point : null;
    if (stop) points.push(stop);
    const me = state.unit.position ? [state.unit.position.lon, state.unit.position.lat] : null;
    if (me) points.push(me);
    const others = (state.others || []).filter((u) => u.position).map((u) => [u.position.lon, u.position.lat, u]);
    others.forEach((o) => points.push(o));
    svg.innerHTML = "";
    if (!points.length) return;
    const lons = points.map((p) => p[0]);
    const lats = points.map((p) => p[1]);
    const k = Math.cos(((Math.min(...lats) + Math.max(...lats)) / 2) * Math.PI / 180);
    const minX = Math.min(...lons) * k, maxX = Math.max(...lons) * k, minY = Math.min(...lats), maxY = Math.max(...lats);
    const span = Math.max(maxX - minX, (maxY - minY) * 1.6, 0.002);
    const scale = 300 / span;
    const cx = (minX + maxX) / 2, cy = (minY + maxY) / 2;
    const xy = (p) => [160 + (p[0] * k - cx) * scale, 100 - (p[1] - cy) * scale];
    const ns = "http://www.w3.org/2000/svg";
    const add = (name, attrs) => {
      const el = document.createElementNS(ns, name);
      Object.entries(attrs).forEach(([a, v]) => el.setAttribute(a, v));
      svg.appendChild(el);
      return el;
    };
    if (route.length) add("polyline", { points: route.map((c) => xy(c).join(",")).join(" "), class: "route" });
    if (stop && dest) {  // the walk: dashed from where the vehicle stops (a square) to the report
      const [sx, sy] = xy(stop), [dx, dy] = xy(dest);
      add("line", { x1: sx, y1: sy, x2: dx, y2: dy, class: "walk" }).appendChild(document.createElementNS(ns, "title"))
        .textContent = S.walk_title;
      add("rect", { x: sx - 5, y: sy - 5, width: 10, height: 10, class: "stop" });
    }
    others.forEach((o) => { const [x, y] = xy(o); add("circle", { cx: x, cy: y, r: 5, class: "other" }); });
    if (dest) { const [x, y] = xy(dest); add("circle", { cx: x, cy: y, r: 7, class: "dest" }); }
    if (me) { const [x, y] = xy(me); add("circle", { cx: x, cy: y, r: 6, class: "me" }); }
  }

  function renderButtons() {
    const box = $("buttons");
    box.innerHTML = "";
    const next = (state.transitions[status] || []);
    for (const to of next) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "set-status" + (to === "out_of_service" ? " minor" : "");
      b.dataset.status = to;
      b.textContent = S[to] || to;
      b.addEventListener("click", () => setStatus(to));
      box.appendChild(b);
    }
    const pick = $("hospital-pick");
    pick.hidden = !(next.includes("transporting") && state.hospitals && state.hospitals.length);
    if (!pick.hidden && !$("hospital").options.length) {
      for (const h of state.hospitals) $("hospital").add(new Option(h.name, h.name));
    }
    watchGps();
  }

  function refuse(data) {
    const message = data && data.error ? data.error.message : "";
    const el = $("refusal");
    el.textContent = `${S.refused}: ${message}`;
    el.hidden = false;
  }

  async function setStatus(to) {
    const body = { status: to, at: new Date().toISOString() };
    if (to === "transporting" && $("hospital").value) body.note = `RS tujuan: ${$("hospital").value}`;
    await outboxAdd({ kind: "status", key: newKey(), body });
    // Shown at once; the server's answer (or a refusal) follows when there is signal.
    status = to;
    $("refusal").hidden = true;
    render();
    showPending();
    flush();
  }

  // ---------------------------------------------------------------- GPS

  function onDuty() {
    return state && state.on_duty_statuses.includes(status);
  }

  function watchGps() {
    if (!navigator.geolocation) { $("gps").textContent = S.gps_off; return; }
    if (onDuty() && watchId === null) {
      watchId = navigator.geolocation.watchPosition(onPosition, () => { $("gps").textContent = S.gps_off; },
        { enableHighAccuracy: true, maximumAge: 0, timeout: 60000 });
    } else if (!onDuty() && watchId !== null) {
      navigator.geolocation.clearWatch(watchId);
      watchId = null;
    }
  }

  async function onPosition(pos) {
    const c = pos.coords;
    const fix = { recorded_at: new Date(pos.timestamp).toISOString(), lon: c.longitude, lat: c.latitude };
    if (lastFix && lastFix.lon === fix.lon && lastFix.lat === fix.lat && pos.timestamp - lastFix.t < 15000) return;
    lastFix = { lon: fix.lon, lat: fix.lat, t: pos.timestamp };
    if (c.accuracy != null) fix.accuracy_m = c.accuracy;
    if (c.altitude != null) fix.altitude_m = c.altitude;
    if (c.speed != null && !Number.isNaN(c.speed)) fix.speed_kph = c.speed * 3.6;
    if (c.heading != null && !Number.isNaN(c.heading)) fix.heading_deg = c.heading;
    $("gps").textContent = S.gps_on;
    await outboxAdd({ kind: "fix", body: fix });
    counters.fixes += 1;
    if (state) {
      state.unit.position = Object.assign({}, state.unit.position || {}, { lon: fix.lon, lat: fix.lat });
      if (state.incident) drawMap();
    }
    showPending();
    flush();
  }

  // ---------------------------------------------------------------- live

  function connect() {
    if (socket || !token || !state) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const host = cfg.ws_port ? `${location.hostname}:${cfg.ws_port}` : location.host;
    socket = new WebSocket(`${scheme}://${host}${cfg.urls.ws.replace("{unit}", state.unit.id)}`, ["siaga-crew", token]);
    socket.onopen = () => { document.body.dataset.live = "live"; };
    socket.onmessage = (event) => onMessage(JSON.parse(event.data));
    socket.onclose = () => {
      socket = null;
      document.body.dataset.live = "closed";
      setTimeout(reconnect, 3000);
    };
  }

  /* Read the state afresh and join again; until that works (no signal), try every few seconds. */
  async function reconnect() {
    if (!token || socket) return;
    if (!(await loadState()) && token) setTimeout(reconnect, 3000);
  }

  function onMessage(message) {
    if (!state) return;
    // Messages from two server processes may come in either order: only what is newer than shown is applied.
    if (message.type === "unit") {
      if (!newer(message.unit, state.unit)) return;
      const previous = state.unit.assignment ? state.unit.assignment.id : null;
      const next = message.unit.assignment ? message.unit.assignment.id : null;
      if (next !== previous) { loadState(); return; } // a new job (or none): read it with its route
      const queued = Number($("pending").dataset.count) > 0;
      state.unit = message.unit;
      if (!queued) status = message.unit.status; // a change of ours still queued wins until it is sent
      render();
    } else if (message.type === "incident" && state.incident && message.incident.id === state.incident.id) {
      if (!newer(message.incident, state.incident)) return;
      const type = state.incident.incident_type;
      Object.assign(state.incident, message.incident);
      if (message.incident.incident_type !== type) { loadState(); return; }
      render();
    } else if (message.type === "other_unit") {
      if (!newer(message.unit, (state.others || []).find((u) => u.id === message.unit.id))) return;
      state.others = (state.others || []).filter((u) => u.id !== message.unit.id).concat([message.unit]);
      if (state.incident) { renderOthers(); drawMap(); }
    }
  }

  // ---------------------------------------------------------------- start

  function showNet() {
    $("net").textContent = navigator.onLine ? S.online : S.offline;
    document.body.dataset.online = navigator.onLine ? "1" : "0";
  }

  async function pair(pairToken) {
    $("unpaired").hidden = false;
    $("unpaired").textContent = S.pairing;
    let response;
    try {
      response = await fetch(cfg.urls.pair, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: pairToken }),
      });
    } catch (e) {
      $("unpaired").textContent = S.offline;
      return;
    }
    const data = await response.json();
    if (!response.ok) {
      $("unpaired").textContent = `${S.refused}: ${data.error ? data.error.message : response.status}`;
      return;
    }
    token = data.session_token;
    localStorage.setItem(TOKEN_KEY, token);
  }

  async function start() {
    showNet();
    window.addEventListener("online", () => { showNet(); flush(); reconnect(); });
    window.addEventListener("offline", showNet);
    setInterval(flush, 5000);
    if ("serviceWorker" in navigator) navigator.serviceWorker.register(cfg.urls.sw, { scope: "./" }).catch(() => {});
    if (location.hash.startsWith("#pair=")) {
      const pairToken = location.hash.slice(6);
      history.replaceState(null, "", location.pathname); // the one-time token leaves the address bar and history
      await pair(pairToken);
      if (!token) return; // the refusal stays on the screen
    }
    if (!token) { unpair(); return; }
    showPending();
    await loadState();
    flush();
  }

  window.SiagaCrew = { counters, flush, get state() { return state; }, get status() { return status; } };
  start();
})();
