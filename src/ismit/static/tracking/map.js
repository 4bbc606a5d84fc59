/* The shipment map: the route (covered: solid, ahead: dashed) and where the goods were last seen, on the
   configured tile server or, without one, on the world outline the platform serves (Natural Earth 110m). */
(function () {
  "use strict";

  function point(place) {
    return place && place.lat !== null && place.lon !== null ? [place.lat, place.lon] : null;
  }

  function draw(element) {
    var data = JSON.parse(document.getElementById(element.dataset.shipmentMap).textContent);
    var map = L.map(element, { worldCopyJump: true, zoomSnap: 0.5, scrollWheelZoom: false });
    if (data.tiles) {
      L.tileLayer(data.tiles, { attribution: data.attribution || "", maxZoom: 18 }).addTo(map);
    } else {
      element.classList.add("outline");
      fetch(data.outline)
        .then(function (answer) { return answer.json(); })
        .then(function (land) {
          L.geoJSON(land, {
            interactive: false,
            attribution: "Natural Earth",
            style: { className: "land", color: "#9aa7b8", weight: 0.6, fillColor: "#f4f1ea", fillOpacity: 1 },
          }).addTo(map).bringToBack();
        });
    }
    var covered = [], ahead = [], all = [];
    data.stops.forEach(function (stop) {
      var at = point(stop);
      if (!at) return;
      all.push(at);
      (stop.passed ? covered : ahead).push(at);
      L.circleMarker(at, { radius: 5, className: "route-stop", color: "#1f4e99", weight: 2, fillColor: "#fff", fillOpacity: 1 })
        .bindTooltip(stop.name + " (" + stop.code + ")")
        .addTo(map);
    });
    var seen = point(data.lastSeen);
    if (seen) {
      covered.push(seen);
      ahead.unshift(seen);
    } else if (covered.length) {
      ahead.unshift(covered[covered.length - 1]);
    }
    if (covered.length > 1) {
      L.polyline(covered, { className: "route-covered", color: "#1a7f37", weight: 4 }).addTo(map);
    }
    if (ahead.length > 1) {
      L.polyline(ahead, { className: "route-ahead", color: "#1f4e99", weight: 3, dashArray: "6 6" }).addTo(map);
    }
    if (seen) {
      all.push(seen);
      L.circleMarker(seen, { radius: 9, className: "last-seen", color: "#b42318", weight: 2, fillColor: "#f04438", fillOpacity: 0.9 })
        .bindTooltip(data.lastSeen.name + " (" + data.lastSeen.code + ")")
        .addTo(map);
    }
    if (all.length) {
      map.fitBounds(L.latLngBounds(all), { padding: [30, 30], maxZoom: 6 });
    } else {
      map.setView([20, 0], 1);
    }
    element.dataset.ready = "true";
  }

  function start() {
    document.querySelectorAll("[data-shipment-map]").forEach(draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
