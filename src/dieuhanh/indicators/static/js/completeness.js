// The completeness scorecard: each unit's report per period coloured on time / late / missing,
// with its rates, worst first (GET /api/v1/completeness); a cell opens that report's entry page.
import { api, el, t } from './app.js';
import { fmtNumber, matches, periodShort } from './indicator-common.js';

const config = JSON.parse(document.getElementById('completeness-config').textContent);
const table = document.getElementById('completeness-table');
const filter = document.getElementById('completeness-filter');
const summary = document.getElementById('completeness-summary');
const SYMBOL = { on_time: '✓', late: '!', missing: '✕', not_due: '·' };

const rate = (value) => (value === null || value === undefined ? '—' : `${fmtNumber(value, 1)}%`);

function entryLink(unit, period) {
  const params = new URLSearchParams({ form: config.form, unit, period });
  return `/reporting/entry?${params}`;
}

function render(result) {
  const periods = result.periods;
  table.tHead.replaceChildren(el('tr', {},
    el('th', {}, t('js.completeness.unit')),
    ...periods.map((p) => el('th', { class: 'period' }, periodShort(p))),
    el('th', { class: 'num' }, t('js.completeness.reporting_rate')),
    el('th', { class: 'num' }, t('js.completeness.on_time_rate'))));
  table.tBodies[0].replaceChildren(...result.units.map((unit) => el('tr',
    { 'data-unit': unit.unit, 'data-name': unit.unitName },
    el('th', { scope: 'row' }, unit.unitName),
    ...periods.map((p) => {
      const state = unit.periods[p] ?? 'not_due';
      const label = `${unit.unitName} · ${periodShort(p)}: ${t(`js.completeness.state.${state}`)}`;
      return el('td', { class: `report-cell report-${state}`, 'data-period': p, 'data-state': state, title: label },
        el('a', { href: entryLink(unit.unit, p), 'aria-label': label }, SYMBOL[state] ?? ''));
    }),
    el('td', { class: 'num' }, rate(unit.reportingRate)),
    el('td', { class: 'num' }, rate(unit.onTimeRate)))));
  for (const [key, value] of Object.entries(result.totals)) {
    const box = document.querySelector(`[data-total="${key}"]`);
    if (box) box.textContent = key.endsWith('Rate') ? rate(value) : String(value);
  }
  applyFilter();
  table.dataset.ready = 'true';
}

function applyFilter() {
  let shown = 0;
  for (const row of table.tBodies[0].rows) {
    row.hidden = !matches(row.dataset.name, filter.value);
    if (!row.hidden) shown += 1;
  }
  summary.textContent = t('js.completeness.summary', { shown, total: table.tBodies[0].rows.length });
}

filter.addEventListener('input', applyFilter);
for (const id of ['completeness-form', 'completeness-range']) {
  document.getElementById(id).addEventListener('change', (event) => {
    if (id === 'completeness-form') document.getElementById('completeness-range').value = '';
    event.target.form.submit();
  });
}

try {
  const params = new URLSearchParams({ form: config.form, period: config.period });
  if (config.unit) params.set('unit', config.unit);
  render(await api(`/api/v1/completeness?${params}`));
} catch (error) {
  summary.textContent = t('js.completeness.failed', { message: error.message });
}
