// The indicator dashboard. Every figure comes from GET /api/v1/analytics, computed from the values
// stored now: tiles (latest complete month, target, trend against the month before, legend colour),
// this year's months against last year's, units × the last 12 months, and the choropleth.
import { api, el, t } from './app.js';
import { fmtNumber, fmtValue, matches, monthOffset, periodLabel, periodShort } from './indicator-common.js';
import { sparkline, yoyChart } from './indicator-charts.js';
import { BAND_FILL, IndicatorMap, QUANTILE_FILL, legendItems, quantileBreaks, quantileOf } from './indicator-map.js';

const config = JSON.parse(document.getElementById('dashboard-config').textContent);
const definitions = new Map(config.indicators.map((d) => [d.code, d]));
const tilesBox = document.getElementById('indicator-tiles');
const indicatorSelect = document.getElementById('indicator-select');
const periodSelect = document.getElementById('map-period');
const levelSelect = document.getElementById('table-level');
const unitTable = document.getElementById('unit-table');
const unitFilter = document.getElementById('unit-filter');
const mapUnit = document.getElementById('map-unit');
const thisYear = Number(config.thisMonth.slice(0, 4));
const REFRESH_MS = 120000;
const CHUNK = 25; // indicator codes per analytics request (the query has a length limit)

let series = new Map(); // indicator → Map(period → row) for the dashboard's unit
let communes = null; // {rows: Map(unit → Map(period → row)), meta} of the selected indicator
let selected = config.selected;
let selectedUnit = null;

const params = (values) => new URLSearchParams(values).toString();
const formatter = (d) => (value) => fmtValue(value, d.decimals, d.unitOfMeasure);

function group(rows, key) {
  const out = new Map();
  for (const row of rows) {
    if (!out.has(row[key])) out.set(row[key], new Map());
    out.get(row[key]).set(row.period, row);
  }
  return out;
}

// --- tiles --------------------------------------------------------------------------------------

async function loadTiles() {
  const codes = [...definitions.keys()];
  const rows = [];
  for (let i = 0; i < codes.length; i += CHUNK) {
    const query = params({
      indicator: codes.slice(i, i + CHUNK).join(','), unit: config.unit, period: 'MONTHS_LAST_YEAR;MONTHS_THIS_YEAR',
    });
    rows.push(...(await api(`/api/v1/analytics?${query}`)).rows);
  }
  series = group(rows, 'indicator');
  let withValues = 0;
  for (const tile of tilesBox.querySelectorAll('.tile')) {
    if (renderTile(tile, definitions.get(tile.dataset.indicator))) withValues += 1;
  }
  document.getElementById('tiles-summary').textContent = t('js.dash.tiles_summary', {
    shown: withValues, total: definitions.size,
  });
  tilesBox.dataset.ready = 'true';
}

// The latest month that has ended and has a value; the dashboard never shows a month in progress.
function latestComplete(byPeriod) {
  const done = [...byPeriod.values()].filter((r) => r.value !== null && r.period < config.thisMonth);
  done.sort((a, b) => (a.period < b.period ? 1 : -1));
  return done[0] ?? null;
}

export function trendOf(definition, latest, previous) {
  if (!latest || !previous || previous.value === null) return { trend: '', better: '' };
  const step = 0.5 * 10 ** -definition.decimals;
  const delta = latest.value - previous.value;
  if (Math.abs(delta) < step) return { trend: 'flat', better: '' };
  const trend = delta > 0 ? 'up' : 'down';
  const higherBetter = definition.direction !== 'lower_is_better';
  return { trend, better: String((trend === 'up') === higherBetter) };
}

const ARROW = { up: '▲', down: '▼', flat: '▶' };

function renderTile(tile, definition) {
  const byPeriod = series.get(definition.code) ?? new Map();
  const latest = latestComplete(byPeriod);
  const previous = latest ? byPeriod.get(monthOffset(latest.period, -1)) : null;
  const format = formatter(definition);
  const { trend, better } = trendOf(definition, latest, previous);
  tile.className = `tile band-${latest?.color ?? 'none'}${definition.code === selected ? ' selected' : ''}`;
  Object.assign(tile.dataset, {
    value: latest ? String(latest.value) : '', period: latest?.period ?? '', band: latest?.color ?? '', trend, better,
  });
  const figure = tile.querySelector('.tile-value');
  figure.textContent = latest ? format(latest.value) : t('js.dash.no_data');
  figure.classList.toggle('no-data', !latest);
  const arrow = tile.querySelector('.tile-trend');
  arrow.textContent = ARROW[trend] ?? '';
  arrow.className = `tile-trend ${better === 'true' ? 'better' : better === 'false' ? 'worse' : ''}`;
  tile.querySelector('.tile-period').textContent = latest ? periodLabel(latest.period) : '';
  tile.querySelector('.tile-target').textContent = definition.target !== null
    ? t('js.dash.target', { value: format(definition.target) }) : '';
  tile.title = previous
    ? t('js.dash.previous', { period: periodLabel(previous.period), value: format(previous.value) }) : '';
  tile.querySelector('.tile-chart').replaceChildren(yoyChart(yoySeries(byPeriod), {
    width: 240, height: 56, compact: true, target: definition.target, format,
  }));
  return latest !== null;
}

function yoySeries(byPeriod) {
  const months = (year) => Array.from({ length: 12 }, (_, m) => {
    const row = byPeriod.get(`${year}${String(m + 1).padStart(2, '0')}`);
    return row ? row.value : null;
  });
  return [
    { label: String(thisYear), values: months(thisYear), className: 'this-year' },
    { label: String(thisYear - 1), values: months(thisYear - 1), className: 'last-year' },
  ];
}

// --- the selected indicator: year over year, units × periods, map ---------------------------------

const map = new IndicatorMap(document.getElementById('indicator-map'), { onSelect: (code) => showUnit(code) });
const mapReady = map.load().catch((error) => {
  document.getElementById('map-legend').textContent = t('js.map.failed', { message: error.message });
});

// Choosing an indicator while the last one's figures are still coming starts another load: only
// the newest may fill the table and paint the map (the older answer could arrive last).
let detailGeneration = 0;

async function loadDetail() {
  const generation = ++detailGeneration;
  const current = () => generation === detailGeneration;
  const definition = definitions.get(selected);
  const format = formatter(definition);
  document.getElementById('yoy-title').textContent = `${t('js.dash.yoy')} · ${definition.name}`;
  document.getElementById('yoy-chart').replaceChildren(yoyChart(
    yoySeries(series.get(selected) ?? new Map()), { target: definition.target, format }));
  const query = (level) => params({ indicator: selected, level, parent: config.province, period: 'LAST_12_MONTHS' });
  const result = await api(`/api/v1/analytics?${query('commune')}`);
  if (!current()) return;
  communes = { rows: group(result.rows, 'unit'), meta: result.metaData };
  const level = levelSelect?.value ?? 'commune';
  const shown = level === 'commune' ? result : await api(`/api/v1/analytics?${query(level)}`);
  if (!current()) return;
  fillPeriods(result);
  renderTable(definition, shown, level);
  await mapReady;
  if (!current()) return;
  paintMap();
  if (selectedUnit) showUnit(selectedUnit);
}

function fillPeriods(result) {
  const codes = Object.keys(result.metaData.periods).sort().reverse();
  const withData = codes.find((p) => result.rows.some((r) => r.period === p && r.value !== null));
  const keep = codes.includes(periodSelect.value) && periodSelect.dataset.indicator === selected
    ? periodSelect.value : withData ?? codes[0];
  periodSelect.replaceChildren(...codes.map((p) => el('option', { value: p }, periodLabel(p))));
  periodSelect.value = keep;
  periodSelect.dataset.indicator = selected;
}

// Colours for cells and polygons: the legend band if the indicator has one, else quantiles.
function colouring(definition, values) {
  if (definition.legend?.length) {
    return {
      of: (row) => ({ band: row.color ?? 'none', fill: BAND_FILL[row.color] }),
      legend: definition.legend.map((b) => ({ fill: BAND_FILL[b.color], label: b.label || bandRange(b, definition) })),
    };
  }
  const breaks = quantileBreaks(values);
  const edges = [Math.min(...values), ...breaks, Math.max(...values)];
  return {
    of: (row) => {
      const q = quantileOf(row.value, breaks);
      return { band: `q${q}`, fill: QUANTILE_FILL[q] };
    },
    legend: values.length ? edges.slice(0, -1).map((lo, i) => ({
      fill: QUANTILE_FILL[quantileOf(lo, breaks)],
      label: `${fmtNumber(lo, definition.decimals)} – ${fmtNumber(edges[i + 1], definition.decimals)}`,
    })) : [],
  };
}

function bandRange(band, definition) {
  const n = (v) => fmtNumber(v, definition.decimals);
  if (band.start === null || band.start === undefined) return `< ${n(band.end)}`;
  if (band.end === null || band.end === undefined) return `≥ ${n(band.start)}`;
  return `${n(band.start)} – ${n(band.end)}`;
}

function renderTable(definition, result, level) {
  const periods = Object.keys(result.metaData.periods).sort();
  const byUnit = group(result.rows, 'unit');
  const values = result.rows.map((r) => r.value).filter((v) => v !== null);
  const colours = colouring(definition, values);
  unitTable.tHead.replaceChildren(el('tr', {}, el('th', {}, t('js.completeness.unit')),
    ...periods.map((p) => el('th', { class: 'period', title: periodLabel(p) }, periodShort(p)))));
  unitTable.tBodies[0].replaceChildren(...Object.entries(result.metaData.units).map(([code, name]) => el('tr',
    { 'data-unit': code, 'data-name': name },
    el('th', { scope: 'row' }, level === 'commune' ? el('a', { href: '#indicator-map', onclick: () => showUnit(code) }, name) : name),
    ...periods.map((p) => {
      const row = byUnit.get(code)?.get(p);
      if (!row || row.value === null) return el('td', { class: 'num empty', 'data-period': p }, '');
      const { band } = colours.of(row);
      return el('td', { class: `num band-${band}`, 'data-period': p, title: `${name} · ${periodLabel(p)}` },
        fmtNumber(row.value, definition.decimals));
    }))));
  applyFilter();
}

function applyFilter() {
  let shown = 0;
  for (const row of unitTable.tBodies[0].rows) {
    row.hidden = !matches(row.dataset.name, unitFilter.value);
    if (!row.hidden) shown += 1;
  }
  document.getElementById('table-summary').textContent = t('js.dash.table_summary', {
    shown, total: unitTable.tBodies[0].rows.length,
  });
}

function paintMap() {
  const definition = definitions.get(selected);
  const period = periodSelect.value;
  const rows = [...communes.rows.values()].map((byPeriod) => byPeriod.get(period)).filter((r) => r && r.value !== null);
  const colours = colouring(definition, rows.map((r) => r.value));
  const format = formatter(definition);
  map.paint(new Map(rows.map((r) => [r.unit, { ...colours.of(r), text: format(r.value) }])));
  document.getElementById('map-legend').replaceChildren(
    el('strong', {}, periodLabel(period)), ...legendItems(colours.legend),
    el('span', {}, el('i', { class: 'swatch', style: 'background:#d9dde3' }), t('js.dash.no_value')));
  map.container.dataset.period = period;
  map.container.dataset.indicator = selected;
}

function showUnit(code) {
  selectedUnit = code;
  map.select(code);
  const definition = definitions.get(selected);
  const format = formatter(definition);
  const byPeriod = communes?.rows.get(code) ?? new Map();
  const period = periodSelect.value;
  const row = byPeriod.get(period);
  const previous = byPeriod.get(monthOffset(period, -1));
  const { trend, better } = trendOf(definition, row, previous);
  const name = map.layers.get(code)?.feature.properties.name ?? communes?.meta.units[code] ?? code;
  const months = Object.keys(communes?.meta.periods ?? {}).sort();
  mapUnit.hidden = false;
  mapUnit.dataset.unit = code;
  mapUnit.replaceChildren(
    el('h3', {}, name),
    el('p', { class: 'map-unit-value' }, row && row.value !== null ? format(row.value) : t('js.dash.no_value'),
      el('span', { class: `tile-trend ${better === 'true' ? 'better' : better === 'false' ? 'worse' : ''}` }, ` ${ARROW[trend] ?? ''}`)),
    el('p', { class: 'muted small' }, periodLabel(period),
      previous && previous.value !== null ? ` · ${t('js.dash.previous', { period: periodLabel(previous.period), value: format(previous.value) })}` : ''),
    sparkline(months.map((p) => byPeriod.get(p)?.value ?? null)));
  if (config.seesAll) {
    const link = new URL('/indicators/dashboard', window.location.href);
    link.searchParams.set('unit', code);
    mapUnit.append(el('a', { href: `${link.pathname}${link.search}`, class: 'small' }, t('js.dash.unit_dashboard')));
  }
}

// --- choosing --------------------------------------------------------------------------------------

function choose(code) {
  if (!definitions.has(code)) return;
  selected = code;
  indicatorSelect.value = code;
  for (const tile of tilesBox.querySelectorAll('.tile')) {
    tile.classList.toggle('selected', tile.dataset.indicator === code);
    tile.setAttribute('aria-pressed', String(tile.dataset.indicator === code));
  }
  const url = new URL(window.location.href);
  url.searchParams.set('indicator', code);
  window.history.replaceState(null, '', url);
  refreshDetail();
}

function refreshDetail() {
  loadDetail().catch((error) => {
    document.getElementById('table-summary').textContent = t('js.dash.failed', { message: error.message });
  });
}

tilesBox.addEventListener('click', (event) => {
  const tile = event.target.closest('.tile');
  if (tile) choose(tile.dataset.indicator);
});
tilesBox.addEventListener('keydown', (event) => {
  const tile = event.target.closest('.tile');
  if (tile && (event.key === 'Enter' || event.key === ' ')) {
    event.preventDefault();
    choose(tile.dataset.indicator);
  }
});
indicatorSelect.addEventListener('change', () => choose(indicatorSelect.value));
periodSelect.addEventListener('change', () => {
  paintMap();
  if (selectedUnit) showUnit(selectedUnit);
});
levelSelect?.addEventListener('change', refreshDetail);
unitFilter.addEventListener('input', applyFilter);

// Without an indicator in the address, open the first one that has figures.
function firstWithData() {
  if (new URL(window.location.href).searchParams.has('indicator')) return;
  const tile = tilesBox.querySelector('.tile[data-period]:not([data-period=""])');
  if (tile && !(tilesBox.querySelector(`.tile[data-indicator="${selected}"]`)?.dataset.period)) {
    selected = tile.dataset.indicator;
    indicatorSelect.value = selected;
    for (const each of tilesBox.querySelectorAll('.tile')) {
      each.classList.toggle('selected', each === tile);
      each.setAttribute('aria-pressed', String(each === tile));
    }
  }
}

async function refresh() {
  try {
    await loadTiles();
    firstWithData();
    await loadDetail();
  } catch (error) {
    document.getElementById('tiles-summary').textContent = t('js.dash.failed', { message: error.message });
  }
}

await refresh();
document.getElementById('indicator-detail').dataset.ready = 'true';
// An operations center keeps the dashboard open: figures follow the values as they are saved.
setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
