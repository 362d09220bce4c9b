// The map part of map questions: Leaflet loading, the basemap with its offline fallback,
// the project's boundary, and a point, line or area being drawn (by tap or from the
// keyboard). Used by collect/map.js; kept here with the rest of places.

export const MIN_VERTICES = { Point: 1, LineString: 2, Polygon: 3 };
const EARTH_METRES_PER_DEGREE = 111320;
let leafletPromise = null;
let counter = 0;

// --------------------------------------------------------------------------- helpers

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

export function format(text, values = {}) {
  return text.replace(/\{(\w+)\}/g, (_, key) => (key in values ? String(values[key]) : `{${key}}`));
}

export function round(value) {
  return Math.round(value * 1e6) / 1e6;
}

export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

const styles = new Map();

export function loadStyle(href) {
  if (!styles.has(href)) {
    const link = el("link", { rel: "stylesheet", href, "data-incity-style": href });
    styles.set(href, new Promise((resolve) => {
      // A stylesheet that fails (offline, not cached) must not stop the map.
      link.addEventListener("load", resolve);
      link.addEventListener("error", resolve);
    }));
    document.head.append(link);
  }
  return styles.get(href);
}

export function loadLeaflet(base = "/static/leaflet/") {
  if (window.L) return loadStyle(`${base}leaflet.css`).then(() => window.L);
  if (!leafletPromise) {
    const style = loadStyle(`${base}leaflet.css`);
    leafletPromise = new Promise((resolve, reject) => {
      const script = el("script", { src: `${base}leaflet.js` });
      script.addEventListener("load", () => style.then(() => resolve(window.L)));
      script.addEventListener("error", () => {
        leafletPromise = null;
        reject(new Error("Leaflet could not load"));
      });
      document.head.append(script);
    });
  }
  return leafletPromise;
}

// ---------------------------------------------------------------- the project's area

function polygonsOf(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Polygon") return [geometry.coordinates];
  if (geometry.type === "MultiPolygon") return geometry.coordinates;
  return [];
}

function inRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function segmentMetres([x, y], [x1, y1], [x2, y2]) {
  // Equirectangular metres around the point: plenty for a tolerance of tens of metres.
  const kx = EARTH_METRES_PER_DEGREE * Math.cos((y * Math.PI) / 180);
  const ky = EARTH_METRES_PER_DEGREE;
  const ax = (x1 - x) * kx, ay = (y1 - y) * ky, bx = (x2 - x) * kx, by = (y2 - y) * ky;
  const dx = bx - ax, dy = by - ay;
  const length = dx * dx + dy * dy;
  const t = length ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / length)) : 0;
  return Math.hypot(ax + t * dx, ay + t * dy);
}

/** Whether a position lies in the area, or within `tolerance` metres of its edge. */
export function insideArea(area, position, tolerance = 50) {
  const polygons = polygonsOf(area);
  if (!polygons.length) return true;
  for (const rings of polygons) {
    if (inRing(position, rings[0]) && !rings.slice(1).some((hole) => inRing(position, hole))) {
      return true;
    }
  }
  for (const rings of polygons) {
    for (const ring of rings) {
      for (let i = 1; i < ring.length; i += 1) {
        if (segmentMetres(position, ring[i - 1], ring[i]) <= tolerance) return true;
      }
    }
  }
  return false;
}

export function positionsOf(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Point") return [geometry.coordinates];
  if (geometry.type === "LineString") return geometry.coordinates;
  if (geometry.type === "Polygon") return geometry.coordinates[0] || [];
  return [];
}

export function geometryFrom(kind, vertices) {
  if (kind === "Point") return vertices.length ? { type: "Point", coordinates: vertices[0] } : null;
  if (vertices.length < MIN_VERTICES[kind]) return null;
  if (kind === "LineString") return { type: "LineString", coordinates: vertices.slice() };
  return { type: "Polygon", coordinates: [[...vertices, vertices[0]]] };
}

export function verticesOf(geometry) {
  const positions = positionsOf(geometry).map((p) => [Number(p[0]), Number(p[1])]);
  if (geometry && geometry.type === "Polygon") return positions.slice(0, -1);
  return positions;
}

// ------------------------------------------------------------------- the map widget

/** A Leaflet map with the basemap, the project's boundary and a sketch being drawn. */
export class Sketch {
  constructor(holder, context, strings, onChange) {
    this.context = context;
    this.s = strings;
    this.map = null;
    this.kind = "Point";
    this.vertices = [];
    this.onChange = onChange;
    this.status = el("p", { class: "incity-map-status", "aria-live": "polite" });
    this.canvas = el("div", {
      class: "incity-map-canvas", tabindex: "0", role: "application", "aria-label": strings.mapLabel,
    });
    this.offlineNote = el("p", { class: "incity-map-offline", hidden: true, text: strings.offline });
    this.hint = el("p", { class: "incity-map-hint" });
    this.buttons = el("div", { class: "incity-map-buttons" });
    holder.append(this.hint, this.offlineNote, this.canvas, this.buttons, this.status);
    const loading = [loadLeaflet(context.leafletBase), context.styleReady];
    this.ready = Promise.all(loading).then(([L]) => this.build(L)).catch(() => {
      this.canvas.replaceChildren(el("p", { class: "incity-map-fallback-note", text: strings.offline }));
    });
  }

  build(L) {
    const area = this.context.map && this.context.map.area;
    const map = L.map(this.canvas, { zoomControl: true, attributionControl: true, tap: true });
    this.L = L;
    this.map = map;
    this.addBasemap(L, map);
    if (area) {
      L.geoJSON(area, {
        interactive: false,
        style: { color: "#1f4e79", weight: 3, fill: true, fillOpacity: 0.05 },
      }).addTo(map);
    }
    const bounds = this.context.map && this.context.map.bounds;
    if (bounds) map.fitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]]);
    else map.setView([20, 0], 2);
    this.layer = L.layerGroup().addTo(map);
    // Stylesheets arriving late, a panel shown or a phone turned all change the canvas size;
    // Leaflet must know, or taps land at the wrong place.
    if (window.ResizeObserver) {
      this.resizing = new ResizeObserver(() => map.invalidateSize());
      this.resizing.observe(this.canvas);
    }
    map.on("click", (event) => this.add([round(event.latlng.lng), round(event.latlng.lat)]));
    this.draw();
  }

  addBasemap(L, map) {
    const plan = this.context.map && this.context.map.plan_image;
    const tileUrl = this.context.map && this.context.map.tile_url;
    if (tileUrl && navigator.onLine !== false) {
      this.tiles = L.tileLayer(tileUrl, {
        attribution: (this.context.map && this.context.map.attribution) || "",
        maxZoom: 19,
      }).addTo(map);
      let failures = 0;
      this.tiles.on("tileerror", () => {
        failures += 1;
        if (failures >= 2) this.goOffline();
      });
      this.tiles.on("tileload", () => { failures = 0; });
    } else {
      this.goOffline();
    }
    if (plan) {
      const [w, s, e, n] = plan.bounds;
      L.imageOverlay(plan.url, [[s, w], [n, e]], { opacity: 0.9, interactive: false }).addTo(map);
    }
    this.onOffline = () => this.goOffline();
    window.addEventListener("offline", this.onOffline);
  }

  goOffline() {
    if (this.tiles && this.map) {
      this.map.removeLayer(this.tiles);
      this.tiles = null;
    }
    this.canvas.classList.add("incity-map-plain");
    this.offlineNote.hidden = false;
    this.canvas.dataset.offline = "true";
  }

  setKind(kind) {
    this.kind = kind;
    this.hint.textContent = kind === "Point" ? this.s.tapPoint : this.s.tapVertices;
    this.buttons.replaceChildren(
      el("button", { type: "button", class: "incity-button", onclick: () => this.addCentre(),
        text: kind === "Point" ? this.s.centre : this.s.centreVertex }),
      kind === "Point" && navigator.geolocation
        ? el("button", { type: "button", class: "incity-button", onclick: () => this.locate(), text: this.s.myLocation })
        : null,
      kind === "Point" ? null
        : el("button", { type: "button", class: "incity-button", onclick: () => this.undo(), text: this.s.undo }),
      el("button", { type: "button", class: "incity-button", onclick: () => this.clear(), text: this.s.clear }),
    );
  }

  addCentre() {
    if (!this.map) return;
    const centre = this.map.getCenter();
    this.add([round(centre.lng), round(centre.lat)]);
  }

  locate() {
    this.say(this.s.locating);
    navigator.geolocation.getCurrentPosition(
      (position) => {
        const { longitude, latitude, accuracy } = position.coords;
        if (this.add([round(longitude), round(latitude)])) {
          this.say(format(this.s.located, { m: Math.round(accuracy) }));
          if (this.map) this.map.setView([latitude, longitude], Math.max(this.map.getZoom(), 16));
        }
      },
      (error) => this.say(format(this.s.noLocation, { reason: error.message || error.code })),
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
    );
  }

  add(position) {
    const map = this.context.map || {};
    if (map.area && !insideArea(map.area, position, map.tolerance_m || 50)) {
      this.say(format(this.s.outside, { areas: (map.area_names || []).join(", ") }), true);
      return false;
    }
    if (this.kind === "Point") this.vertices = [position];
    else this.vertices.push(position);
    this.changed();
    return true;
  }

  undo() {
    this.vertices.pop();
    this.changed();
  }

  clear() {
    this.vertices = [];
    this.changed();
  }

  setVertices(vertices) {
    this.vertices = vertices.map((p) => [p[0], p[1]]);
    this.draw();
    if (this.map && this.vertices.length) {
      const latlngs = this.vertices.map(([x, y]) => [y, x]);
      this.map.fitBounds(this.L.latLngBounds(latlngs).pad(0.5), { maxZoom: 17 });
    }
  }

  changed() {
    this.draw();
    const [lon, lat] = this.vertices[this.vertices.length - 1] || [];
    if (this.kind === "Point" && this.vertices.length) this.say(format(this.s.pointSet, { lat, lon }));
    else if (this.vertices.length) this.say(format(this.s.vertices, { n: this.vertices.length }));
    this.onChange(this.geometry());
  }

  geometry() {
    return geometryFrom(this.kind, this.vertices);
  }

  say(text, alarm = false) {
    this.status.textContent = text;
    this.status.classList.toggle("incity-map-error", alarm);
    this.status.setAttribute("role", alarm ? "alert" : "status");
  }

  draw() {
    if (!this.map) return;
    const L = this.L;
    this.layer.clearLayers();
    const latlngs = this.vertices.map(([x, y]) => [y, x]);
    if (this.kind === "LineString" && latlngs.length > 1) L.polyline(latlngs, { weight: 5 }).addTo(this.layer);
    if (this.kind === "Polygon" && latlngs.length > 2) L.polygon(latlngs, { weight: 4 }).addTo(this.layer);
    latlngs.forEach((latlng) =>
      L.circleMarker(latlng, { radius: 9, weight: 3, color: "#b00020", fillOpacity: 0.8 }).addTo(this.layer));
  }

  destroy() {
    window.removeEventListener("offline", this.onOffline);
    if (this.resizing) this.resizing.disconnect();
    if (this.map) this.map.remove();
    this.map = null;
  }
}

