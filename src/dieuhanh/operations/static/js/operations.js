// The operations view: the province's commune polygons (no tile server), the layers every
// capability contributes (GET /api/v1/operations/layers) drawn as canvas circle markers or as
// fills of the polygons, and the panel of what needs attention now. The stream
// (/api/v1/operations/stream) names the layers that changed: just those are fetched again,
// debounced, so a burst of events costs one fetch. Layer choices are kept in localStorage.
import { addBaseTiles, api, el, escapeHtml, t } from './app.js';

const container = document.getElementById('ops-map');
const layerList = document.getElementById('ops-layers');
const attentionList = document.getElementById('ops-attention');
const attentionCount = document.getElementById('ops-attention-count');
const liveBadge = document.getElementById('ops-live');
const summary = document.getElementById('ops-summary');
const layout = document.getElementById('ops-layout');
const wallButton = document.getElementById('ops-wall');
const STORE = 'dieuhanh.operations.v1';
const DEBOUNCE_MS = 400;
const FULL_REFRESH_MS = 5 * 60 * 1000; // what publishes no event (a report accepted, time passing)
const NEUTRAL = { color: '#3d4f63', weight: 1, fillColor: '#dfe7d8', fillOpacity: 0.45 };
// Canvas markers take no keyboard focus (thousands of tab stops would be no better): each
// layer's things are also listed, as links, the first LISTED of them, and focusing one shows it
// on the map.
const LISTED = 100;

const saved = (() => {
  try { return JSON.parse(localStorage.getItem(STORE)) ?? {}; } catch { return {}; }
})();
saved.on ??= {};
saved.params ??= {};
const save = () => localStorage.setItem(STORE, JSON.stringify(saved));

const map = L.map(container, { zoomSnap: 0.25, preferCanvas: true, keyboard: true });
const renderer = L.canvas({ padding: 0.2 });
const polygons = new Map(); // unit code → polygon
const anchors = new Map(); // unit code → [lat, lon] where things placed by unit are drawn
const layers = new Map(); // layer code → {def, group, item, data}
let fills = null; // the choropleth layer now painting the polygons
let seenAttention = null;

function linkOf(template, id, unit) {
  return template.replace('{id}', encodeURIComponent(id ?? '')).replace('{unit}', encodeURIComponent(unit ?? ''));
}

async function drawBoundaries() {
  addBaseTiles(map, container);
  const data = await api(`/api/v1/boundaries?parent=${encodeURIComponent(container.dataset.province)}`);
  const shapes = L.geoJSON(data, {
    renderer, style: () => NEUTRAL,
    onEachFeature(feature, layer) {
      const { code, name, label } = feature.properties;
      polygons.set(code, layer);
      anchors.set(code, label ? [label[1], label[0]] : layer.getBounds().getCenter());
      layer.bindTooltip(escapeHtml(name), { sticky: true, className: 'commune-tooltip' });
    },
  }).addTo(map);
  if (data.attribution) map.attributionControl.addAttribution(escapeHtml(data.attribution));
  if (data.features.length) map.fitBounds(shapes.getBounds(), { padding: [8, 8] });
  else map.setView([11.0, 107.0], 9);
}

// Things placed by their unit only are spread around its label point (golden-angle spiral),
// so that ten in one commune are ten dots, not one.
function placer() {
  const used = new Map();
  return (lat, lon, unit) => {
    if (lat !== null && lon !== null) return [lat, lon];
    const anchor = anchors.get(unit);
    if (!anchor) return null;
    const n = used.get(unit) ?? 0;
    used.set(unit, n + 1);
    const radius = 0.004 * Math.sqrt(n);
    const angle = n * 2.39996;
    const [lat0, lon0] = Array.isArray(anchor) ? anchor : [anchor.lat, anchor.lng];
    return [lat0 + radius * Math.sin(angle), lon0 + radius * Math.cos(angle)];
  };
}

function drawPoints(state) {
  const { data } = state;
  const colors = Object.fromEntries(data.classes.map((c) => [c.code, c.color]));
  const group = L.layerGroup();
  const place = placer();
  state.markers = [];
  let unplaced = 0;
  for (const [id, lat, lon, unit, cls, title] of data.rows) {
    const at = place(lat, lon, unit);
    if (!at) { unplaced += 1; state.markers.push(null); continue; }
    const marker = L.circleMarker(at, {
      renderer, radius: state.def.code === 'directives' ? 9 : 6, color: '#ffffff', weight: 1,
      fillColor: colors[cls] ?? '#888888', fillOpacity: 0.9,
    });
    marker.bindTooltip(escapeHtml(title), { className: 'ops-tooltip' });
    if (data.link) marker.on('click', () => { window.location.href = linkOf(data.link, id, unit); });
    group.addLayer(marker);
    state.markers.push(marker);
  }
  return { group, drawn: data.rows.length - unplaced, unplaced };
}

function paintFills(state) {
  const colors = Object.fromEntries(state.data.classes.map((c) => [c.code, c.color]));
  const byUnit = new Map(state.data.rows.map((row) => [row[0], row]));
  for (const [code, polygon] of polygons) {
    const row = byUnit.get(code);
    polygon.setStyle(row ? { ...NEUTRAL, fillColor: colors[row[1]] ?? '#cccccc', fillOpacity: 0.8 } : NEUTRAL);
    polygon.setTooltipContent(escapeHtml(row ? row[3] : polygon.feature.properties.name));
  }
  fills = state.def.code;
  return { group: null, drawn: byUnit.size, unplaced: 0 };
}

function clearFills(code) {
  if (fills !== code) return;
  for (const polygon of polygons.values()) {
    polygon.setStyle(NEUTRAL);
    polygon.setTooltipContent(escapeHtml(polygon.feature.properties.name));
  }
  fills = null;
}

// Shows a listed thing on the map: its marker (or its unit's polygon) in view, tooltip open.
function point(state, index, unit) {
  const marker = state.markers?.[index];
  if (marker) {
    map.panTo(marker.getLatLng());
    marker.openTooltip();
    return;
  }
  const polygon = polygons.get(unit);
  if (polygon) { map.fitBounds(polygon.getBounds(), { maxZoom: 11 }); polygon.openTooltip(); }
}

function showRows(state) {
  const { data, def } = state;
  const list = state.item.querySelector('.rows ol');
  const place = (unit) => polygons.get(unit)?.feature.properties.name ?? unit ?? '';
  list.replaceChildren(...data.rows.slice(0, LISTED).map((row, index) => {
    const [id, unit, title] = def.kind === 'choropleth' ? [null, row[0], row[3]] : [row[0], row[3], row[5]];
    const text = def.kind === 'choropleth' ? title : `${title} · ${place(unit)}`;
    const link = data.link
      ? el('a', { href: linkOf(data.link, id, unit) }, text)
      : el('span', { tabindex: '0' }, text);
    link.addEventListener('focus', () => point(state, index, unit));
    return el('li', {}, link);
  }));
  if (data.rows.length > LISTED) {
    list.append(el('li', { class: 'muted' }, t('js.ops.more', { count: data.rows.length - LISTED })));
  }
}

function showLegend(state) {
  const legend = state.item.querySelector('.legend');
  legend.replaceChildren(...state.data.classes.map((c) => el('span', {},
    el('i', { style: `background:${c.color}` }), c.title)));
  state.item.querySelector('.note').textContent = state.data.note || '';
}

async function refresh(code) {
  const state = layers.get(code);
  if (!state || !saved.on[code]) return;
  const query = new URLSearchParams(saved.params[code] ?? {});
  const problem = state.item.querySelector('.problem');
  try {
    state.data = await api(`/api/v1/operations/layers/${code}?${query}`);
    problem.textContent = '';
  } catch (error) {
    problem.textContent = t('js.ops.layer_failed', { message: error.message });
    return;
  }
  if (!saved.on[code]) return; // switched off while it loaded
  const drawn = state.def.kind === 'choropleth' ? paintFills(state) : drawPoints(state);
  state.group?.remove();
  state.group = drawn.group;
  state.group?.addTo(map);
  showLegend(state);
  showRows(state);
  state.item.dataset.drawn = String(drawn.drawn);
  state.item.querySelector('.count').textContent = drawn.unplaced
    ? ` (${drawn.drawn}, ${t('js.ops.unplaced', { count: drawn.unplaced })})` : ` (${drawn.drawn})`;
  summary.textContent = t('js.ops.updated', { time: new Date().toLocaleTimeString('vi-VN') });
}

function switchOff(code) {
  const state = layers.get(code);
  state.group?.remove();
  state.group = null;
  clearFills(code);
  state.markers = [];
  state.item.querySelector('.rows ol').replaceChildren();
  state.item.dataset.drawn = '0';
  state.item.querySelector('.count').textContent = '';
}

function paramChooser(def) {
  const param = def.params.find((p) => p.choices);
  if (!param) return '';
  const chosen = saved.params[def.code]?.[param.name] ?? param.choices[0]?.code ?? '';
  if (chosen) saved.params[def.code] = { ...(saved.params[def.code] ?? {}), [param.name]: chosen };
  const select = el('select', { 'aria-label': def.title, name: param.name },
    ...param.choices.map((c) => el('option', { value: c.code }, c.name)));
  select.value = chosen;
  select.addEventListener('change', () => {
    saved.params[def.code] = { ...(saved.params[def.code] ?? {}), [param.name]: select.value };
    save();
    refresh(def.code);
  });
  return select;
}

function layerItem(def) {
  const box = el('input', { type: 'checkbox', id: `ops-layer-${def.code}` });
  box.checked = saved.on[def.code] ?? def.on_by_default;
  saved.on[def.code] = box.checked;
  box.addEventListener('change', () => {
    saved.on[def.code] = box.checked;
    save();
    if (box.checked) refresh(def.code); else switchOff(def.code);
  });
  const item = el('li', { 'data-layer': def.code, 'data-drawn': '0' },
    el('label', { for: box.id }, box, def.title, el('span', { class: 'count' })),
    paramChooser(def),
    el('div', { class: 'legend' }),
    el('p', { class: 'note muted' }),
    el('p', { class: 'problem', role: 'status' }),
    el('details', { class: 'rows' }, el('summary', {}, t('js.ops.list')), el('ol', {})));
  return item;
}

function when(iso) {
  const d = new Date(iso);
  const two = (n) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())} ${two(d.getDate())}/${two(d.getMonth() + 1)}/${d.getFullYear()}`;
}

async function refreshAttention() {
  let answer;
  try {
    answer = await api('/api/v1/operations/attention?limit=50');
  } catch (error) {
    attentionCount.textContent = t('js.ops.layer_failed', { message: error.message });
    return;
  }
  const before = seenAttention;
  seenAttention = new Set(answer.items.map((item) => item.key));
  attentionCount.textContent = `(${answer.count})`;
  if (!answer.items.length) {
    attentionList.replaceChildren(el('li', { class: 'none' }, t('js.ops.nothing')));
    return;
  }
  attentionList.replaceChildren(...answer.items.map((item) => {
    const fresh = before !== null && !before.has(item.key);
    return el('li', { class: `urgency-${item.urgency}${fresh ? ' fresh' : ''}`, 'data-key': item.key },
      el('a', { href: item.link },
        el('span', { class: 'what' }, `${t(`js.ops.urgency.${item.urgency}`)}: ${item.title}`),
        el('span', { class: 'where' }, `${item.unit_name ?? t('js.ops.province')} · ${when(item.at)}`)));
  }));
}

// Changed layers gathered while the stream talks, fetched once it has been quiet a moment.
const pending = new Set();
let pendingAttention = false;
let timer = null;
function schedule(codes, attention) {
  for (const code of codes) pending.add(code);
  pendingAttention ||= attention;
  clearTimeout(timer);
  timer = setTimeout(() => {
    const codesNow = [...pending];
    const attentionNow = pendingAttention;
    pending.clear();
    pendingAttention = false;
    for (const code of codesNow) refresh(code);
    if (attentionNow) refreshAttention();
  }, DEBOUNCE_MS);
}

function everything() {
  schedule([...layers.keys()], true);
}

function listen() {
  const stream = new EventSource('/api/v1/operations/stream');
  // Each (re)connection may follow missed events: everything is fetched again.
  stream.addEventListener('ready', () => {
    liveBadge.dataset.live = 'on';
    liveBadge.textContent = t('js.ops.live');
    everything();
  });
  stream.addEventListener('error', () => {
    liveBadge.dataset.live = 'off';
    liveBadge.textContent = t('js.ops.offline');
  });
  stream.addEventListener('changed', (message) => {
    const change = JSON.parse(message.data);
    schedule(change.layers, change.attention);
  });
}

function wallMode(on) {
  layout.classList.toggle('wall', on);
  wallButton.setAttribute('aria-pressed', String(on));
  saved.wall = on;
  save();
  map.invalidateSize();
}
wallButton.addEventListener('click', () => wallMode(!layout.classList.contains('wall')));
if (saved.wall) wallMode(true);

try {
  await drawBoundaries();
} catch (error) {
  summary.textContent = t('js.map.failed', { message: error.message });
  map.setView([11.0, 107.0], 9);
}
const definitions = await api('/api/v1/operations/layers');
for (const def of definitions) {
  const item = layerItem(def);
  layers.set(def.code, { def, item, group: null, data: null });
  layerList.append(item);
}
save();
listen();
setInterval(everything, FULL_REFRESH_MS);
container.dataset.ready = 'true';
// For bench/operations.py: a layer's re-fetch and redraw, timed in the page.
window.dieuhanhOperations = { map, renderer, layers, refresh };
