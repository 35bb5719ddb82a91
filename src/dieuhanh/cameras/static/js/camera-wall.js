// The video wall for the operations center's screens: no top bar, full screen on a click, the
// cursor hidden, rotating through the person's saved layouts (or one, pinned with ?layout=<id>).
import { api, el, t } from './app.js';
import { CameraPlayer, fmtClock } from './player.js';

const cameras = new Map(JSON.parse(document.getElementById('camera-choices').textContent)
  .map((camera) => [camera.id, camera]));
const wall = document.getElementById('camera-wall');
const grid = document.getElementById('wall-grid');
const caption = document.getElementById('wall-layout-name');
const clock = document.getElementById('wall-clock');
const notice = document.getElementById('wall-message');
const pinned = Number(wall.dataset.pinned) || null;
const CURSOR_MS = 3000;

let layouts = [];
let players = [];
let rotation;
let shown = ''; // the layout on the screen, as JSON: shown again only if it changed

function say(text) {
  notice.textContent = text;
  notice.hidden = !text;
}

async function fetchLayouts() {
  const all = await api('/api/v1/camera-layouts');
  return pinned ? all.filter((layout) => layout.id === pinned) : all;
}

function show(layout) {
  players.forEach((player) => player.destroy());
  players = [];
  shown = JSON.stringify(layout);
  const tiles = Array.from({ length: layout.size }, (_, index) => {
    const camera = cameras.get(layout.camera_ids[index]);
    const host = el('div', { class: 'tile-player' });
    if (camera) {
      players.push(new CameraPlayer(host, {
        cameraId: camera.id, quality: layout.size === 1 ? 'main' : 'sub', name: camera.name,
      }));
    }
    return el('div', { class: `grid-tile${camera ? '' : ' empty'}` }, host);
  });
  grid.className = `camera-grid size-${layout.size}`;
  grid.replaceChildren(...tiles);
  caption.textContent = layout.name;
  wall.dataset.layout = String(layout.id);
  wall.dataset.rotations = String(Number(wall.dataset.rotations) + 1);
}

// Each layout stays its rotate_seconds; the list is fetched again at each round, so layouts
// changed on the grid page reach the wall without a reload.
async function rotate(index) {
  clearTimeout(rotation);
  if (index >= layouts.length) {
    try {
      layouts = await fetchLayouts();
    } catch (error) {
      console.warn('wall: layouts not refreshed', error);
    }
    index = 0;
  }
  const layout = layouts[index];
  if (!layout) {
    players.forEach((player) => player.destroy());
    players = [];
    shown = '';
    grid.replaceChildren();
    say(pinned ? t('js.wall.not_found', { id: pinned }) : t('js.wall.no_layouts'));
    rotation = setTimeout(() => rotate(layouts.length), 30000);
    return;
  }
  say('');
  if (JSON.stringify(layout) !== shown) show(layout);
  if (layouts.length > 1) rotation = setTimeout(() => rotate(index + 1), layout.rotate_seconds * 1000);
  else rotation = setTimeout(() => rotate(layouts.length), 60000);
}

function tickClock() {
  clock.textContent = fmtClock();
}

let cursorTimer;
function showCursor() {
  document.body.classList.remove('cursor-hidden');
  clearTimeout(cursorTimer);
  cursorTimer = setTimeout(() => document.body.classList.add('cursor-hidden'), CURSOR_MS);
}

wall.addEventListener('click', () => {
  if (!document.fullscreenElement) document.documentElement.requestFullscreen?.().catch(() => {});
});
document.addEventListener('mousemove', showCursor);
window.addEventListener('pagehide', () => players.forEach((player) => player.destroy()));
showCursor();
tickClock();
setInterval(tickClock, 1000);
rotate(Infinity);
