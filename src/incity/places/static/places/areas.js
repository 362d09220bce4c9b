// The places page: the project's areas and named places on a Leaflet map, and for editors
// drawing an area (click the corners, undo, finish) or placing a named place by a click.
// Drawing reuses the map questions' Sketch; what is drawn goes into the form's GeoJSON
// field, which is also the keyboard alternative.

import { Sketch, el, format } from "./sketch.js";

const AREA_STYLE = { color: "#1f4e79", weight: 2, fillOpacity: 0.08 };
const HIGHLIGHT_STYLE = { color: "#b00020", weight: 4, dashArray: "6 4", fillOpacity: 0.05 };

function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

function showAreasAndPlaces(L, map, data) {
  const layer = L.geoJSON(data.areas, {
    interactive: true,
    style: (feature) => (feature.id === data.highlight ? HIGHLIGHT_STYLE : AREA_STYLE),
    onEachFeature: (feature, shape) => shape.bindTooltip(feature.properties.name),
  }).addTo(map);
  layer.bringToBack();
  for (const place of data.places) {
    L.circleMarker([place.lat, place.lon], { radius: 6, color: "#1b5e20", fillOpacity: 0.9 })
      .bindTooltip(place.name)
      .addTo(map);
  }
  if (!data.map.bounds && layer.getLayers().length) map.fitBounds(layer.getBounds());
}

function modeSwitch(strings, onChoose) {
  const name = "places-map-mode";
  const option = (value, label, checked) => el("label", {},
    el("input", { type: "radio", name, value, checked, onchange: () => onChoose(value) }), ` ${label}`);
  return el("fieldset", { class: "places-map-mode", "data-testid": "map-mode" },
    el("legend", { text: strings.modeLegend }),
    option("area", strings.modeArea, true),
    option("place", strings.modePlace, false));
}

function start() {
  const holder = document.getElementById("places-map");
  const data = readJson("places-data");
  const strings = readJson("places-strings");
  if (!holder || !data || !strings) return;
  const editable = holder.dataset.editable === "true";
  const target = document.querySelector("textarea[data-draw-target]");
  const lon = document.querySelector("[data-place-lon]");
  const lat = document.querySelector("[data-place-lat]");
  let mode = "area";
  let polygon = [];

  const sketch = new Sketch(holder, { map: data.map }, strings, (geometry) => {
    if (mode === "area") {
      polygon = sketch.vertices.slice();
      if (target) target.value = geometry ? JSON.stringify(geometry) : "";
    } else if (geometry && lon && lat) {
      [lon.value, lat.value] = geometry.coordinates.map(String);
    }
    holder.dataset.vertices = String(sketch.vertices.length);
  });
  sketch.setKind("Polygon");

  if (editable && target) {
    const finish = el("button", { type: "button", class: "incity-button", text: strings.finish,
      "data-testid": "finish-area",
      onclick: () => {
        const n = polygon.length;
        if (n < 3) {
          sketch.say(format(strings.tooFew, { n }), true);
          return;
        }
        target.value = JSON.stringify(sketch.geometry());
        sketch.say(strings.finished);
        const nameField = target.form && target.form.querySelector("[name=name]");
        if (nameField) nameField.focus();
      } });
    const addFinish = () => sketch.buttons.append(finish);
    addFinish();
    if (lon && lat) {
      holder.prepend(modeSwitch(strings, (chosen) => {
        mode = chosen;
        sketch.setKind(chosen === "area" ? "Polygon" : "Point");
        sketch.vertices = chosen === "area" ? polygon.slice() : [];
        sketch.draw();
        if (chosen === "area") addFinish();
      }));
    }
  } else {
    // Viewers look; clicks draw nothing.
    sketch.hint.textContent = "";
    sketch.buttons.replaceChildren();
  }

  sketch.ready.then(() => {
    if (!sketch.map) return;
    if (!editable) sketch.map.off("click");
    showAreasAndPlaces(sketch.L, sketch.map, data);
    holder.dataset.ready = "true";
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
