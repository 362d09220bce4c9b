// Draws the published layer embedded in the page (the same figures are in the table).
(function () {
  "use strict";
  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  // viridis and cividis, sampled; hot/cold in Okabe-Ito vermillion and blue.
  var VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];
  var CIVIDIS = ["#00224e", "#123570", "#3b496c", "#575d6d", "#707173", "#8a8779", "#a69d75", "#c4b56c", "#e4cf5b", "#fee838"];
  var SPOTS = { hot: "#D55E00", cold: "#0072B2" };
  function ramp(colours, t) {
    var i = Math.max(0, Math.min(colours.length - 1, Math.floor(t * colours.length)));
    return colours[i];
  }
  function start() {
    var element = document.getElementById("maps-map");
    var hexagons = read("maps-hexagons");
    if (!element || !hexagons || typeof L === "undefined") { return; }
    var hotspots = read("maps-hotspots");
    var settings = read("maps-settings") || {};
    var map = L.map(element);
    if (settings.tile_url) {
      L.tileLayer(settings.tile_url, { attribution: settings.attribution || "" }).addTo(map);
    }
    var max = 1;
    hexagons.features.forEach(function (f) { if (f.properties.value > max) { max = f.properties.value; } });
    var hotById = {};
    (hotspots ? hotspots.features : []).forEach(function (f) { hotById[f.id] = f.properties; });
    var measure = "value";
    function style(feature) {
      var p = feature.properties, colour = "#dddddd";
      if (measure === "balance") {
        if (p.balance !== null && p.balance !== undefined) { colour = ramp(CIVIDIS, (p.balance + 1) / 2); }
      } else if (measure === "hotspot") {
        var h = hotById[feature.id];
        colour = h && SPOTS[h.hotspot] ? SPOTS[h.hotspot] : "#dddddd";
      } else if (p.value !== null && p.value !== undefined) {
        colour = ramp(VIRIDIS, p.value / max);
      }
      return { color: "#ffffff", weight: 1, fillColor: colour, fillOpacity: 0.75 };
    }
    var layer = L.geoJSON(hexagons, {
      style: style,
      onEachFeature: function (feature, item) {
        var p = feature.properties;
        var text = (p.area || p.cell) + ": " + (p.value === null ? "hidden" : p.value) + " marks";
        if (p.balance !== null && p.balance !== undefined) { text += ", balance " + p.balance; }
        item.bindTooltip(text);
      }
    }).addTo(map);
    element.setAttribute("data-features", String(hexagons.features.length));
    var bounds = layer.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds); } else { map.setView([0, 0], 2); }
    document.querySelectorAll("input[name=measure]").forEach(function (input) {
      input.addEventListener("change", function () { measure = input.value; layer.setStyle(style); });
    });
  }
  document.addEventListener("DOMContentLoaded", start);
})();
