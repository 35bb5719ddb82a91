// The progress map: each commune/ward coloured by how far its cameras are connected.
import { api, escapeHtml } from './app.js';

const container = document.getElementById('progress-map');
const stages = JSON.parse(document.getElementById('progress-data').textContent);
const codes = JSON.parse(document.getElementById('progress-codes').textContent);
const stageByCode = new Map(codes.map((code, index) => [code, stages[index]]));
const COLOURS = { connected: '#2e7d32', registered: '#f2b134', declared: '#f4d58d', none: '#c9d1d9' };

const map = L.map(container, { zoomSnap: 0.25 });
const data = await api(`/api/v1/boundaries?parent=${encodeURIComponent(container.dataset.province)}`);
const layer = L.geoJSON(data, {
  style: (feature) => {
    const stage = stageByCode.get(feature.properties.code) ?? 'none';
    return {
      color: '#3d4f63', weight: 1, fillOpacity: 0.75, fillColor: COLOURS[stage],
      className: `progress-shape stage-${stage}`,
    };
  },
  onEachFeature: (feature, shape) => {
    shape.bindTooltip(escapeHtml(feature.properties.name), { sticky: true });
    shape.on('click', () => { window.location.href = `/cameras?unit=${feature.properties.code}`; });
  },
}).addTo(map);
if (data.attribution) map.attributionControl.addAttribution(escapeHtml(data.attribution));
if (data.features.length) map.fitBounds(layer.getBounds(), { padding: [6, 6] });
container.dataset.features = String(data.features.length);
