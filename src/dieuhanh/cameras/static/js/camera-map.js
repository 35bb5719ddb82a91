// The camera map: the province's commune polygons (no tile server needed), a marker per camera
// with coordinates coloured by state, clustered when zoomed out; a marker's pop-up shows the
// latest picture and the state in words, and opens the live player beside the map.
import { addBaseTiles, api, el, escapeHtml, t } from './app.js';
import { CameraPlayer, fmtSince, offlineText, stateLabel } from './player.js';

const container = document.getElementById('camera-map');
const summary = document.getElementById('camera-map-summary');
const panel = document.getElementById('map-live');
const panelName = document.getElementById('map-live-name');
const panelLink = document.getElementById('map-live-page');
const panelPlayer = document.getElementById('map-live-player');
const cameras = JSON.parse(document.getElementById('camera-choices').textContent);
const REFRESH_MS = 60000;
const markers = new Map();
let player = null;

function markerIcon(state) {
  return L.divIcon({ className: `camera-marker state-${state}`, iconSize: [18, 18], html: '' });
}

// A cluster's colour: red if any camera in it is dead, green if all are live, else grey.
function clusterIcon(cluster) {
  const states = cluster.getAllChildMarkers().map((marker) => marker.options.camera.state);
  const worst = states.includes('dead') ? 'dead' : states.every((s) => s === 'live') ? 'live' : 'unknown';
  const count = el('span', {}, String(states.length));
  return L.divIcon({ html: count.outerHTML, className: `camera-cluster state-${worst}`, iconSize: [36, 36] });
}

function stateWords(camera) {
  if (camera.state === 'dead') return offlineText(camera.reason, camera.since);
  const since = camera.since ? ` ${t('js.cmap.since', { time: fmtSince(camera.since) })}` : '';
  return `${stateLabel(camera.state)}${camera.state === 'live' ? since : ''}`;
}

function popupContent(camera) {
  const picture = el('img', { class: 'popup-snapshot', alt: '', src: `/api/v1/cameras/${camera.id}/snapshot.jpg` });
  picture.addEventListener('error', () => picture.classList.add('missing'));
  return el('div', { class: 'camera-popup', 'data-camera': String(camera.id) },
    el('strong', {}, camera.name),
    el('div', { class: 'muted small' }, camera.unit_name),
    picture,
    el('p', { class: `popup-state state-${camera.state}` }, stateWords(camera)),
    el('button', { type: 'button', class: 'primary popup-watch', onclick: () => watch(camera) }, t('js.cmap.watch')));
}

function watch(camera) {
  player?.destroy();
  panel.hidden = false;
  panelName.textContent = camera.name;
  panelLink.href = `/cameras/${camera.id}/live`;
  player = new CameraPlayer(panelPlayer, { cameraId: camera.id, quality: 'sub', name: camera.name });
}

document.getElementById('map-live-close').addEventListener('click', () => {
  player?.destroy();
  player = null;
  panel.hidden = true;
});

function addMarkers(map) {
  const group = L.markerClusterGroup({
    iconCreateFunction: clusterIcon, maxClusterRadius: 50, showCoverageOnHover: false,
    disableClusteringAtZoom: 17,
  });
  for (const camera of cameras.filter((c) => c.lat !== null && c.lon !== null)) {
    const marker = L.marker([camera.lat, camera.lon], { icon: markerIcon(camera.state), title: camera.name, camera });
    marker.bindPopup(() => popupContent(marker.options.camera), { minWidth: 260, maxWidth: 280 });
    markers.set(camera.id, marker);
    group.addLayer(marker);
  }
  group.addTo(map);
  container.dataset.markers = String(markers.size);
  summary.textContent = t('js.cmap.summary', { shown: markers.size, missing: cameras.length - markers.size });
  return group;
}

// States change while the map stays open on an operations center's screen.
async function refreshStates(group) {
  const fresh = await api('/api/v1/cameras?limit=5000');
  for (const camera of fresh) {
    const marker = markers.get(camera.id);
    const status = camera.status ?? {};
    if (!marker || marker.options.camera.state === status.state) continue;
    Object.assign(marker.options.camera, { state: status.state, reason: status.reason, since: status.since });
    marker.setIcon(markerIcon(status.state));
  }
  group.refreshClusters();
}

async function drawCommunes(map) {
  const data = await api(`/api/v1/boundaries?parent=${encodeURIComponent(container.dataset.province)}`);
  const shapes = L.geoJSON(data, {
    style: () => ({ color: '#3d4f63', weight: 1, fillColor: '#dfe7d8', fillOpacity: 0.6, className: 'commune-shape' }),
    onEachFeature(feature, layer) {
      layer.bindTooltip(escapeHtml(feature.properties.name), { sticky: true, className: 'commune-tooltip' });
    },
  }).addTo(map);
  shapes.bringToBack();
  if (data.attribution) map.attributionControl.addAttribution(escapeHtml(data.attribution));
  return shapes;
}

const map = L.map(container, { zoomSnap: 0.25, maxZoom: 18 }); // clustering needs a maxZoom
addBaseTiles(map, container);
try {
  const shapes = await drawCommunes(map);
  if (!shapes.getLayers().length) throw new Error('no boundaries');
  map.fitBounds(shapes.getBounds(), { padding: [8, 8] });
} catch (error) {
  summary.textContent = t('js.cmap.failed', { message: error.message });
  const placed = cameras.filter((c) => c.lat !== null && c.lon !== null).map((c) => [c.lat, c.lon]);
  if (placed.length) map.fitBounds(L.latLngBounds(placed), { padding: [20, 20], maxZoom: 14 });
  else map.setView([11.0, 107.0], 9);
}
const group = addMarkers(map); // after the view is set: clustering needs a zoom level
container.dataset.ready = 'true';
setInterval(() => refreshStates(group).catch((error) => console.warn('camera map:', error)), REFRESH_MS);
window.addEventListener('pagehide', () => player?.destroy());
