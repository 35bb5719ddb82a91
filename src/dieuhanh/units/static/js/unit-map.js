// A unit's own boundary, drawn without any tile server.
import { api } from './app.js';

const container = document.getElementById('unit-map');
if (container && window.L) {
  const map = L.map(container, { zoomSnap: 0.25, attributionControl: false, scrollWheelZoom: false });
  const feature = await api(`/api/v1/units/${encodeURIComponent(container.dataset.code)}/boundary`);
  const layer = L.geoJSON(feature, {
    style: { color: '#0f4c81', weight: 2, fillColor: '#5b8fd1', fillOpacity: 0.25 },
  }).addTo(map);
  map.fitBounds(layer.getBounds(), { padding: [12, 12] });
}
