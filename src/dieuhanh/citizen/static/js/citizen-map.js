// The public map of reports: the communes' boundaries (no tile server) and one dot per report,
// its point rounded by the server; a dot opens the report's page.
const holder = document.getElementById('public-map');
const L = window.L;
const COLORS = { new: '#1a4c9a', reopened: '#1a4c9a', resolved: '#246b24', closed: '#246b24' };

if (holder && L) {
  const map = L.map(holder, { attributionControl: false });
  const load = (url) => fetch(url).then((response) => (response.ok ? response.json() : null));
  Promise.all([load(holder.dataset.geojson), load(holder.dataset.points)]).then(([communes, points]) => {
    if (communes) {
      const layer = L.geoJSON(communes, { style: { weight: 1, color: '#2b6', fillOpacity: 0.04 } }).addTo(map);
      map.fitBounds(layer.getBounds());
    }
    if (points) {
      L.geoJSON(points, {
        pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
          radius: 6, color: COLORS[feature.properties.status] ?? '#b36b00', fillOpacity: 0.7,
        }),
        onEachFeature: (feature, layer) => layer.on('click', () => {
          window.location.href = `/phan-anh/${encodeURIComponent(feature.properties.code)}`;
        }),
      }).addTo(map);
    }
  });
}
