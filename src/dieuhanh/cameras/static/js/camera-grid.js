// The camera grid: 1, 4, 9 or 16 tiles, a camera chosen per tile (sub-streams in small tiles),
// layouts saved per person through the layouts API and shown again after a reload.
import { api, el, t } from './app.js';
import { CameraPlayer } from './player.js';

const cameras = JSON.parse(document.getElementById('camera-choices').textContent);
const byId = new Map(cameras.map((camera) => [camera.id, camera]));
const grid = document.getElementById('camera-grid');
const sizeSelect = document.getElementById('grid-size');
const layoutSelect = document.getElementById('layout-select');
const nameInput = document.getElementById('layout-name');
const rotateInput = document.getElementById('layout-rotate');
const saveButton = document.getElementById('layout-save');
const deleteButton = document.getElementById('layout-delete');
const message = document.getElementById('layout-message');
const LAST_LAYOUT = 'dieuhanh.camera-grid.layout';

let layouts = [];
let tiles = [];

function cameraOptions() {
  const groups = new Map();
  for (const camera of cameras) {
    if (!groups.has(camera.unit_name)) groups.set(camera.unit_name, el('optgroup', { label: camera.unit_name }));
    groups.get(camera.unit_name).append(el('option', { value: String(camera.id) }, camera.name));
  }
  return [el('option', { value: '' }, t('js.grid.choose')), ...groups.values()];
}

function setCamera(tile, cameraId, size) {
  tile.player?.destroy();
  tile.player = null;
  const camera = byId.get(cameraId);
  tile.cameraId = camera ? camera.id : null;
  tile.select.value = camera ? String(camera.id) : '';
  tile.element.classList.toggle('empty', !camera);
  if (camera) {
    tile.player = new CameraPlayer(tile.host, {
      cameraId: camera.id, quality: size === 1 ? 'main' : 'sub', name: camera.name,
    });
  } else {
    tile.host.replaceChildren(el('p', { class: 'tile-empty' }, t('js.grid.empty_tile')));
  }
}

function build(size, cameraIds) {
  tiles.forEach((tile) => tile.player?.destroy());
  tiles = Array.from({ length: size }, (_, index) => {
    const select = el('select', { class: 'tile-camera', 'aria-label': t('js.grid.empty_tile') }, ...cameraOptions());
    const host = el('div', { class: 'tile-player' });
    const tile = { element: el('div', { class: 'grid-tile', 'data-index': String(index) }, select, host), select, host };
    select.addEventListener('change', () => setCamera(tile, Number(select.value) || null, size));
    setCamera(tile, cameraIds[index] ?? null, size);
    return tile;
  });
  grid.className = `camera-grid size-${size}`;
  grid.dataset.size = String(size);
  grid.replaceChildren(...tiles.map((tile) => tile.element));
  sizeSelect.value = String(size);
}

function remember(layout) {
  const url = new URL(window.location.href);
  if (layout) url.searchParams.set('layout', String(layout.id));
  else url.searchParams.delete('layout');
  window.history.replaceState(null, '', url);
  if (layout) localStorage.setItem(LAST_LAYOUT, String(layout.id));
  else localStorage.removeItem(LAST_LAYOUT);
  grid.dataset.layout = layout ? String(layout.id) : '';
}

function show(layout) {
  layoutSelect.value = layout ? String(layout.id) : '';
  nameInput.value = layout?.name ?? '';
  rotateInput.value = String(layout?.rotate_seconds ?? 30);
  deleteButton.disabled = !layout;
  build(layout?.size ?? Number(sizeSelect.value), layout?.camera_ids ?? []);
  remember(layout);
}

function fillLayouts() {
  layoutSelect.replaceChildren(layoutSelect.options[0],
    ...layouts.map((layout) => el('option', { value: String(layout.id) }, layout.name)));
}

async function loadLayouts() {
  layouts = await api('/api/v1/camera-layouts');
  fillLayouts();
}

const selected = () => layouts.find((layout) => String(layout.id) === layoutSelect.value) ?? null;

async function save() {
  const name = nameInput.value.trim();
  if (!name) {
    message.textContent = t('js.grid.name_needed');
    nameInput.focus();
    return;
  }
  const current = selected();
  const body = {
    name,
    size: Number(sizeSelect.value),
    camera_ids: tiles.map((tile) => tile.cameraId),
    rotate_seconds: Math.min(3600, Math.max(5, Number(rotateInput.value) || 30)),
    position: current ? current.position : layouts.length,
  };
  const saved = current
    ? await api(`/api/v1/camera-layouts/${current.id}`, { method: 'PUT', body })
    : await api('/api/v1/camera-layouts', { method: 'POST', body });
  await loadLayouts();
  layoutSelect.value = String(saved.id);
  deleteButton.disabled = false;
  remember(saved);
  message.textContent = t('js.grid.saved', { name: saved.name });
}

async function remove() {
  const current = selected();
  if (!current || !window.confirm(t('js.grid.confirm_delete', { name: current.name }))) return;
  await api(`/api/v1/camera-layouts/${current.id}`, { method: 'DELETE' });
  await loadLayouts();
  show(null);
  message.textContent = t('js.grid.deleted', { name: current.name });
}

function guarded(action) {
  return async () => {
    try {
      await action();
    } catch (error) {
      message.textContent = error.message;
    }
  };
}

sizeSelect.addEventListener('change', () => build(Number(sizeSelect.value), tiles.map((tile) => tile.cameraId)));
layoutSelect.addEventListener('change', () => {
  message.textContent = '';
  show(selected());
});
saveButton.addEventListener('click', guarded(save));
deleteButton.addEventListener('click', guarded(remove));
window.addEventListener('pagehide', () => tiles.forEach((tile) => tile.player?.destroy()));

build(Number(sizeSelect.value), []);
try {
  await loadLayouts();
  const wanted = new URLSearchParams(window.location.search).get('layout') ?? localStorage.getItem(LAST_LAYOUT);
  const layout = layouts.find((item) => String(item.id) === wanted) ?? layouts[0] ?? null;
  if (layout) show(layout);
} catch (error) {
  message.textContent = error.message;
}
grid.dataset.ready = 'true';
