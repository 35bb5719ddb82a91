// The unit list: results follow the search box as one types (the form still works without JS).
import { debounce, el, searchUnits, t } from './app.js';

const input = document.getElementById('unit-search');
const rows = document.getElementById('unit-rows');
let controller;

function row(unit) {
  const former = unit.matched_name ? t('js.formerly', { name: unit.matched_name }) : '';
  return el('tr', {},
    el('td', {}, el('code', {}, unit.code)),
    el('td', {}, el('a', { href: `/units/${unit.code}`, class: 'unit-link' }, unit.name)),
    el('td', {}, t(`js.unit_type.${unit.type}`)),
    el('td', { class: 'muted' }, former));
}

async function refresh() {
  const text = input.value.trim();
  if (text.length < 2) return;
  controller?.abort();
  controller = new AbortController();
  const types = input.dataset.tab === 'departments' ? 'department' : 'commune,ward,special_zone';
  try {
    const units = await searchUnits(text, input.dataset.within, types, controller.signal);
    rows.replaceChildren(...(units.length ? units.map(row)
      : [el('tr', {}, el('td', { colspan: '4', class: 'muted' }, t('js.none_found')))]));
    history.replaceState(null, '', `?tab=${input.dataset.tab}&q=${encodeURIComponent(text)}`);
  } catch (error) {
    if (error.name !== 'AbortError') console.warn(error);
  }
}

input?.addEventListener('input', debounce(refresh, 200));
