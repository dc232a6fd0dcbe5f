/* Street, landmark and kelurahan names on the map without internet: the region's own names as vector tiles
   (GET cfg.urls.names_tiles, PostGIS ST_AsMVT: gazetteer/tiles.py), decoded here and drawn on a canvas per
   tile by a Leaflet GridLayer. Kelurahan from zoom 13, streets and landmarks from 15 (street zoom). */
"use strict";

window.SiagaLabels = (function () {
  // ------------------------------------------------------------------ a minimal MVT reader (spec version 2)

  function reader(bytes) {
    let pos = 0;
    function varint() {
      let value = 0, shift = 0, byte;
      do {
        byte = bytes[pos++];
        value += (byte & 0x7f) * 2 ** shift; // arithmetic, not <<: values past 2^31 stay right
        shift += 7;
      } while (byte >= 0x80);
      return value;
    }
    /* Each field of the message as [number, value]: a number for a varint, a sub-array of bytes otherwise. */
    function* fields(end = bytes.length) {
      while (pos < end) {
        const key = varint(), number = Math.floor(key / 8), wire = key & 7;
        if (wire === 0) yield [number, varint()];
        else if (wire === 2) {
          const length = varint(), start = pos;
          pos += length;
          yield [number, bytes.subarray(start, start + length)];
        } else if (wire === 5) { pos += 4; yield [number, null]; } else if (wire === 1) { pos += 8; yield [number, null]; } else {
          throw new Error(`MVT: wire type ${wire} is not read here`);
        }
      }
    }
    return { varint, fields, get pos() { return pos; } };
  }

  const text = new TextDecoder();

  function packed(bytes) {
    const r = reader(bytes), out = [];
    while (r.pos < bytes.length) out.push(r.varint());
    return out;
  }

  /* Geometry commands to rings/lines of [x, y] in tile units: MoveTo 1, LineTo 2, ClosePath 7; zigzag params. */
  function geometry(commands) {
    const parts = [];
    let x = 0, y = 0, i = 0, part = null;
    const zigzag = (n) => (n % 2 ? -(n + 1) / 2 : n / 2);
    while (i < commands.length) {
      const id = commands[i] & 7, count = Math.floor(commands[i] / 8);
      i += 1;
      if (id === 7) continue;
      for (let k = 0; k < count; k += 1) {
        x += zigzag(commands[i]);
        y += zigzag(commands[i + 1]);
        i += 2;
        if (id === 1) parts.push((part = []));
        part.push([x, y]);
      }
    }
    return parts;
  }

  /* A tile's layers: name -> {extent, features: [{props, parts}]}; only string properties are kept. */
  function decode(buffer) {
    const layers = {};
    for (const [number, layerBytes] of reader(new Uint8Array(buffer)).fields()) {
      if (number !== 3) continue;
      let name = "", extent = 4096;
      const keys = [], values = [], raw = [];
      for (const [n, v] of reader(layerBytes).fields()) {
        if (n === 1) name = text.decode(v);
        else if (n === 2) raw.push(v);
        else if (n === 3) keys.push(text.decode(v));
        else if (n === 4) {
          let value = null;
          for (const [k, s] of reader(v).fields()) if (k === 1) value = text.decode(s);
          values.push(value);
        } else if (n === 5) extent = v;
      }
      const features = raw.map((bytes) => {
        let tags = [], commands = [];
        for (const [n, v] of reader(bytes).fields()) {
          if (n === 2) tags = packed(v);
          else if (n === 4) commands = packed(v);
        }
        const props = {};
        for (let t = 0; t + 1 < tags.length; t += 2) props[keys[tags[t]]] = values[tags[t + 1]];
        return { props, parts: geometry(commands) };
      });
      layers[name] = { extent, features };
    }
    return layers;
  }

  // ------------------------------------------------------------------ drawing

  const STREET_ZOOM = 15, KELURAHAN_ZOOM = 13;

  function overlaps(box, boxes) {
    return boxes.some((b) => box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1]);
  }

  const insideTile = (box, size) => box[0] >= 0 && box[1] >= 0 && box[2] <= size && box[3] <= size;

  /* Where a street's name fits: a nearly straight stretch of the line as long as the text, wholly inside the
     tile (a canvas cuts what crosses its edge), nearest the tile's middle; null when there is none. */
  function streetSpot(parts, scale, width, size, boxes) {
    const height = 13;
    let best = null;
    parts.forEach((part) => {
      const line = part.map(([x, y]) => [x * scale, y * scale]);
      const along = [0];
      line.slice(1).forEach((p, i) => along.push(along[i] + Math.hypot(p[0] - line[i][0], p[1] - line[i][1])));
      for (let i = 0, j = 0; i < line.length; i += 1) {
        while (j < line.length && along[j] - along[i] < width) j += 1;
        if (j >= line.length) break;
        const [a, b] = [line[i], line[j]];
        const chord = Math.hypot(b[0] - a[0], b[1] - a[1]);
        if (chord < 0.92 * (along[j] - along[i])) continue; // too curved for straight text
        let angle = Math.atan2(b[1] - a[1], b[0] - a[0]);
        if (angle > Math.PI / 2) angle -= Math.PI;
        if (angle < -Math.PI / 2) angle += Math.PI;
        const mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
        const halfW = (Math.abs(Math.cos(angle)) * width + Math.abs(Math.sin(angle)) * height) / 2;
        const halfH = (Math.abs(Math.sin(angle)) * width + Math.abs(Math.cos(angle)) * height) / 2;
        const box = [mid[0] - halfW, mid[1] - halfH, mid[0] + halfW, mid[1] + halfH];
        if (!insideTile(box, size) || overlaps(box, boxes)) continue;
        const off = Math.hypot(mid[0] - size / 2, mid[1] - size / 2);
        if (!best || off < best.off) best = { mid, angle, box, off };
      }
    });
    return best;
  }

  function drawStreet(ctx, feature, scale, boxes, size) {
    const name = feature.props.name;
    if (!name) return false;
    const spot = streetSpot(feature.parts, scale, ctx.measureText(name).width + 8, size, boxes);
    if (!spot) return false;
    boxes.push(spot.box);
    ctx.save();
    ctx.translate(spot.mid[0], spot.mid[1]);
    ctx.rotate(spot.angle);
    ctx.strokeText(name, 0, 0);
    ctx.fillText(name, 0, 0);
    ctx.restore();
    return true;
  }

  function drawPlace(ctx, feature, scale, boxes, zoom, size) {
    const { name, kind } = feature.props;
    const area = kind === "kelurahan" || kind === "kecamatan";
    if (!name || (kind === "kecamatan" && zoom > 14) || (!area && zoom < STREET_ZOOM)) return false;
    const [x, y] = feature.parts[0][0].map((c) => c * scale);
    ctx.font = area ? "600 12px sans-serif" : "11px sans-serif";
    const label = area ? name.toUpperCase() : name;
    const width = ctx.measureText(label).width;
    const right = [x - 4, y - 7, x + width + 8, y + 7], left = [x - width - 8, y - 7, x + 4, y + 7];
    const fits = (b) => insideTile(b, size) && !overlaps(b, boxes);
    const box = area ? [x - width / 2, y - 8, x + width / 2, y + 8] : [right, left].find(fits);
    if (!box || !fits(box)) return false;
    boxes.push(box);
    const toLeft = box === left;
    ctx.fillStyle = area ? "#6b5b7b" : "#7a3e00";
    if (area) {
      ctx.textAlign = "center";
      ctx.strokeText(label, x, y);
      ctx.fillText(label, x, y);
    } else {
      ctx.beginPath();
      ctx.arc(x, y, 3, 0, 2 * Math.PI);
      ctx.fill();
      ctx.textAlign = toLeft ? "right" : "left";
      ctx.strokeText(label, toLeft ? x - 6 : x + 6, y);
      ctx.fillText(label, toLeft ? x - 6 : x + 6, y);
    }
    return true;
  }

  function drawTile(canvas, layers, zoom, drawn) {
    const ctx = canvas.getContext("2d");
    const size = canvas.width;
    const boxes = [];
    ctx.textBaseline = "middle";
    ctx.lineWidth = 3;
    ctx.strokeStyle = "rgba(255, 255, 255, 0.9)";
    const places = layers.places;
    if (places) {
      // Areas first (placed under everything else), then landmarks.
      const order = [...places.features].sort((a, b) => (a.props.kind === "landmark") - (b.props.kind === "landmark"));
      order.forEach((f) => { if (drawPlace(ctx, f, size / places.extent, boxes, zoom, size)) drawn.add(f.props.name); });
    }
    const streets = layers.streets;
    if (streets && zoom >= STREET_ZOOM) {
      ctx.font = "italic 11px sans-serif";
      ctx.textAlign = "center";
      ctx.fillStyle = "#3b3024";
      streets.features.forEach((f) => { if (drawStreet(ctx, f, size / streets.extent, boxes, size)) drawn.add(f.props.name); });
    }
  }

  /* The labels layer for a map; ``layer.drawn`` holds every name drawn so far (the end-to-end tests read it). */
  function layer(urlTemplate) {
    const drawn = new Set();
    const Labels = L.GridLayer.extend({
      createTile(coords, done) {
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = 256;
        // No minZoom option: Leaflet would stop the whole map zooming out past it. Below, the tile stays blank.
        if (coords.z < KELURAHAN_ZOOM) {
          setTimeout(() => done(null, canvas), 0);
          return canvas;
        }
        const url = urlTemplate.replace("{z}", coords.z).replace("{x}", coords.x).replace("{y}", coords.y);
        fetch(url, { credentials: "same-origin" })
          .then((response) => (response.ok ? response.arrayBuffer() : Promise.reject(new Error(`${response.status}`))))
          .then((buffer) => { drawTile(canvas, decode(buffer), coords.z, drawn); done(null, canvas); })
          .catch((err) => done(err, canvas));
        return canvas;
      },
    });
    // maxZoom as high as a map goes: a layer's maxZoom caps the map's own.
    const labels = new Labels({ maxZoom: 22, maxNativeZoom: 20, pane: "labels", updateWhenZooming: false });
    labels.drawn = drawn;
    return labels;
  }

  return { layer, decode };
})();
