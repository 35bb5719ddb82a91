// Shared helpers for the pages' scripts: messages, API calls, dates (dd/mm/yyyy).

const catalogElement = document.getElementById('i18n');
const catalog = catalogElement ? JSON.parse(catalogElement.textContent) : {};

export function t(key, values = {}) {
  const text = catalog[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? values[name] : `{${name}}`));
}

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? '';
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Calls the JSON API with the session cookie; changes carry the CSRF header the API requires.
export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method, headers, signal, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    window.location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    throw new ApiError(401, 'not_authenticated', t('js.session_expired'));
  }
  const payload = response.status === 204 ? null : await response.json();
  if (!response.ok) {
    const error = payload?.error ?? {};
    throw new ApiError(response.status, error.code ?? 'error', error.message ?? response.statusText);
  }
  return payload;
}

export function fmtDate(value) {
  if (!value) return '';
  const date = new Date(value);
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(date.getDate())}/${pad(date.getMonth() + 1)}/${date.getFullYear()}`;
}

export function debounce(fn, ms = 200) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// Text for APIs that take HTML (Leaflet's tooltips, pop-ups and attribution): names come from
// people and imported files, and "<img src=x onerror=…>" must show as text, not run.
const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(text) {
  return String(text ?? '').replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// Unit search shared by the map panel and the unit list: current and former names, no diacritics.
export async function searchUnits(text, within, types, signal) {
  const params = new URLSearchParams({ q: text, limit: '20' });
  if (within) params.set('within', within);
  if (types) params.set('type', types);
  return api(`/api/v1/units?${params}`, { signal });
}

// The map pages' base layer: the tile server the province configured (data-tile-url and its
// max zoom and attribution on the map's container), or none — the product runs offline and
// draws the communes' polygons on a plain background (.no-tiles). Leaflet (L) is loaded by
// the map pages only, so it is looked up when called.
export function addBaseTiles(map, container) {
  const { tileUrl, tileMaxZoom, tileAttribution } = container.dataset;
  if (!tileUrl) {
    container.classList.add('no-tiles');
    return;
  }
  L.tileLayer(tileUrl, { maxZoom: Number(tileMaxZoom || 18), attribution: tileAttribution }).addTo(map);
}
