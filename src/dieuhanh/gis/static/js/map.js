// The province map: commune/ward polygons from the imported boundaries, tiles only if configured.
import { addBaseTiles, api, debounce, el, escapeHtml, searchUnits, t } from './app.js';

const container = document.getElementById('province-map');
const summary = document.getElementById('map-summary');
const searchBox = document.getElementById('map-search');
const results = document.getElementById('map-results');
const FILL = { commune: '#8fbf7f', ward: '#e6b35c', special_zone: '#7fa7d9' };
const layersByCode = new Map();

function style(feature) {
  return {
    color: '#3d4f63', weight: 1, fillOpacity: 0.55,
    fillColor: FILL[feature.properties.type] ?? '#cccccc',
    className: `commune-shape type-${feature.properties.type}`,
  };
}

function openUnit(code) {
  window.location.href = `/units/${encodeURIComponent(code)}`;
}

function highlight(layer, on) {
  layer.setStyle(on ? { weight: 3, color: '#0f4c81', fillOpacity: 0.75 } : style(layer.feature));
  if (on) layer.bringToFront();
}

async function draw() {
  const map = L.map(container, { zoomSnap: 0.25, preferCanvas: false });
  addBaseTiles(map, container);
  const data = await api(`/api/v1/boundaries?parent=${encodeURIComponent(container.dataset.province)}`);
  const labels = L.layerGroup();
  const shapes = L.geoJSON(data, {
    style,
    onEachFeature(feature, layer) {
      const { code, name, label } = feature.properties;
      layersByCode.set(code, layer);
      layer.bindTooltip(escapeHtml(name), { sticky: true, className: 'commune-tooltip' });
      layer.on({
        click: () => openUnit(code),
        mouseover: () => highlight(layer, true),
        mouseout: () => highlight(layer, false),
      });
      if (label) {
        labels.addLayer(L.tooltip({ permanent: true, direction: 'center', className: 'commune-label' })
          .setLatLng([label[1], label[0]]).setContent(escapeHtml(name.replace(/^(Xã|Phường|Đặc khu) /, ''))));
      }
    },
  }).addTo(map);
  if (data.attribution) map.attributionControl.addAttribution(escapeHtml(data.attribution));
  if (data.features.length) map.fitBounds(shapes.getBounds(), { padding: [8, 8] });
  const showLabels = () => (map.getZoom() >= 10 ? labels.addTo(map) : labels.remove());
  map.on('zoomend', showLabels);
  showLabels();
  container.dataset.features = String(data.features.length);
  summary.textContent = t('js.map.summary', { count: data.features.length });
  return map;
}

function showResults(units, map) {
  results.replaceChildren(...units.map((unit) => el('li', {},
    el('a', {
      href: `/units/${unit.code}`, class: 'unit-link',
      onmouseenter: () => {
        const layer = layersByCode.get(unit.code);
        if (layer) { highlight(layer, true); map.fitBounds(layer.getBounds(), { maxZoom: 11 }); }
      },
      onmouseleave: () => { const layer = layersByCode.get(unit.code); if (layer) highlight(layer, false); },
    }, unit.name),
    unit.matched_name ? el('small', { class: 'muted' }, ` ${t('js.formerly', { name: unit.matched_name })}`) : '')));
}

const map = await draw().catch((error) => {
  summary.textContent = t('js.map.failed', { message: error.message });
  throw error;
});
let controller;
searchBox.addEventListener('input', debounce(async () => {
  const text = searchBox.value.trim();
  if (text.length < 2) { results.replaceChildren(); return; }
  controller?.abort();
  controller = new AbortController();
  try {
    showResults(await searchUnits(text, container.dataset.province, 'commune,ward,special_zone',
      controller.signal), map);
  } catch (error) {
    if (error.name !== 'AbortError') console.warn(error);
  }
}, 200));
searchBox.addEventListener('keydown', (event) => {
  const first = results.querySelector('a');
  if (event.key === 'Enter' && first) { event.preventDefault(); first.click(); }
});
