/* Draws the fieldwork map with Leaflet: exact points, or hexagon counts. The same facts are in
   the table beside the map, so nothing depends on this script or on tiles loading. */
(function () {
  "use strict";

  function draw() {
    var element = document.getElementById("fieldwork-map");
    var source = document.getElementById("fieldwork-map-data");
    if (!element || !source || typeof window.L === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var L = window.L;
    var map = L.map(element, { scrollWheelZoom: false, keyboard: true });
    L.tileLayer(element.dataset.tileUrl, {
      attribution: element.dataset.attribution,
      maxZoom: 19,
    }).addTo(map);
    var layer = L.featureGroup().addTo(map);
    (data.points || []).forEach(function (point) {
      L.circleMarker([point.lat, point.lon], { radius: 6, weight: 2 })
        .bindTooltip(point.label)
        .addTo(layer);
    });
    (data.cells || []).forEach(function (cell) {
      L.polygon(cell.boundary, { weight: 1, fillOpacity: 0.4 })
        .bindTooltip(String(cell.count))
        .addTo(layer);
    });
    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15 });
    } else {
      map.setView([20, 0], 2);
    }
    element.setAttribute("data-ready", "true");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
