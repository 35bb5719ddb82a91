// The data entry page: every value is saved as it is typed (PUT /api/v1/dataValues).
//
// A commune's connection is slow and drops: an edited value goes first into a queue kept in
// localStorage, then to the server one at a time; it leaves the queue only when the server has
// answered. A network failure (or a 5xx) keeps it queued and retries with backoff, also after a
// reload or when the browser comes back online; a refusal (wrong type, locked period) is shown on
// the cell with the server's message. After each save the form's validation rules are read again.
import { api, ApiError, debounce, el, t } from './app.js';
import { filterSelect, fmtDateTime } from './indicator-common.js';

const root = document.getElementById('data-entry');
const config = JSON.parse(document.getElementById('entry-config').textContent);
const cells = [...root.querySelectorAll('.entry-cell')];
const pendingBox = document.getElementById('entry-pending');
const QUEUE_KEY = 'dieuhanh.entry.queue.v1';
const TYPING_MS = 700; // a pause in typing saves the value
const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 60000;
const TIME_ZONE = 'Asia/Ho_Chi_Minh';

// --- the queue of values not yet acknowledged --------------------------------------------------

const memory = {};
function readQueue() {
  try {
    return JSON.parse(localStorage.getItem(QUEUE_KEY) ?? '{}') ?? {};
  } catch {
    return { ...memory }; // storage refused (private mode): keep the queue in this page only
  }
}
function writeQueue(queue) {
  try {
    localStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
  } catch {
    Object.keys(memory).forEach((k) => delete memory[k]);
    Object.assign(memory, queue);
  }
}
const keyOf = (item) => [item.ou, item.pe, item.de, item.co ?? ''].join('|');
function enqueue(item) {
  const queue = readQueue();
  const key = keyOf(item);
  delete queue[key]; // re-added at the end: values are sent in the order they were typed
  queue[key] = item;
  writeQueue(queue);
}
function acknowledge(item) {
  const queue = readQueue();
  const key = keyOf(item);
  if (queue[key]?.value !== item.value) return false; // typed again meanwhile: send the new one
  delete queue[key];
  writeQueue(queue);
  return true;
}
const onThisPage = (item) => item.ou === config.unit && item.pe === config.period;

// --- cells ------------------------------------------------------------------------------------

const itemOf = (input) => ({
  ou: config.unit, pe: config.period, de: input.dataset.de, co: input.dataset.co || '',
  value: input.dataset.type === 'text' ? input.value : input.value.trim(),
});
function inputFor(item) {
  if (!onThisPage(item)) return null;
  return cells.find((c) => c.dataset.de === item.de && (c.dataset.co || '') === (item.co || '')) ?? null;
}
function setState(input, state, message = '') {
  const cell = input.closest('td');
  cell.dataset.state = state;
  cell.querySelector('.cell-msg').textContent = state === 'error' ? message : '';
  cell.title = state ? (state === 'error' ? message : t(`js.entry.cell.${state}`)) : '';
}

const totalFormat = new Intl.NumberFormat(document.documentElement.lang === 'en' ? 'en-GB' : 'vi-VN',
  { maximumFractionDigits: 6 });
function updateTotal(row) {
  const total = row.querySelector('.row-total');
  if (!total || total.textContent === '—') return;
  const numbers = [...row.querySelectorAll('.entry-cell')]
    .map((c) => c.value.trim()).filter((v) => /^[+-]?(\d+\.?\d*|\.\d+)$/.test(v)).map(Number);
  total.textContent = numbers.length ? totalFormat.format(numbers.reduce((a, b) => a + b, 0)) : '';
}

const timers = new WeakMap();
function commit(input) {
  clearTimeout(timers.get(input));
  if (!config.canWrite) return;
  const item = itemOf(input);
  const queued = readQueue()[keyOf(item)];
  if (queued ? queued.value === item.value : item.value === input.dataset.saved) {
    if (!queued && input.closest('td').dataset.state === 'error') setState(input, '');
    return;
  }
  enqueue(item);
  setState(input, 'saving');
  renderPending();
  flush();
}

// --- sending ----------------------------------------------------------------------------------

let flushing = false;
let retryTimer = null;
let retryDelay = RETRY_MIN_MS;

// A dropped connection, a server restarting, a session to renew: try again later.
const transient = (error) => !(error instanceof ApiError) || error.status >= 500
  || [401, 408, 425, 429].includes(error.status);

async function flush() {
  if (flushing) return;
  flushing = true;
  clearTimeout(retryTimer);
  retryTimer = null;
  try {
    for (let item = Object.values(readQueue())[0]; item; item = Object.values(readQueue())[0]) {
      const input = inputFor(item);
      if (input) setState(input, 'saving');
      let saved = null;
      let refusal = null;
      try {
        saved = await api('/api/v1/dataValues', {
          method: 'PUT',
          body: { de: item.de, pe: item.pe, ou: item.ou, co: item.co || null, value: item.value === '' ? null : item.value },
        });
      } catch (error) {
        if (transient(error)) {
          waitAndRetry();
          return;
        }
        refusal = error.message;
      }
      retryDelay = RETRY_MIN_MS;
      if (acknowledge(item) && input) settle(input, item, saved, refusal);
      else if (!onThisPage(item) && refusal) console.warn('entry: a queued value was refused:', item, refusal);
      if (saved) validateSoon();
      renderPending();
    }
  } finally {
    flushing = false;
    renderPending();
  }
}

function settle(input, item, saved, refusal) {
  if (refusal !== null) {
    setState(input, 'error', refusal);
    return;
  }
  input.dataset.saved = saved.value ?? '';
  // The stored spelling ("12.50" is kept as "12.5"), unless the person is still in the cell.
  if (document.activeElement !== input && input.value === item.value) input.value = saved.value ?? '';
  setState(input, 'saved');
}

function waitAndRetry() {
  for (const item of Object.values(readQueue())) {
    const input = inputFor(item);
    if (input) setState(input, 'waiting');
  }
  pendingBox.dataset.offline = 'true';
  retryTimer = setTimeout(flush, retryDelay);
  retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
}

function renderPending() {
  const count = Object.keys(readQueue()).length;
  pendingBox.hidden = count === 0;
  pendingBox.dataset.count = String(count);
  if (count === 0) delete pendingBox.dataset.offline;
  pendingBox.textContent = count
    ? t(pendingBox.dataset.offline ? 'js.entry.pending_offline' : 'js.entry.pending', { count })
    : '';
}

window.addEventListener('online', () => { retryDelay = RETRY_MIN_MS; flush(); });
document.addEventListener('visibilitychange', () => { if (!document.hidden) flush(); });

// --- validation -------------------------------------------------------------------------------

const summary = document.getElementById('entry-validation-summary');
const violationList = document.getElementById('entry-violations');
let ruleRefs = new Map(); // rule code → [{de, co}] of the values it reads, to mark their cells
let validationRun = 0;

function references(text) {
  return [...String(text).matchAll(/#\{([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_-]+))?\}/g)]
    .map((m) => ({ de: m[1], co: m[2] ?? null }));
}

async function loadRules() {
  try {
    const rules = await api('/api/v1/validationRules');
    ruleRefs = new Map(rules.map((r) => [r.code, references(`${r.left} ${r.right}`)]));
  } catch (error) {
    console.warn('entry: validation rules not readable:', error.message);
  }
}

async function validate() {
  const run = ++validationRun;
  const params = new URLSearchParams({ unit: config.unit, period: config.period });
  try {
    const result = await api(`/api/v1/forms/${encodeURIComponent(config.form)}/validation?${params}`);
    if (run === validationRun) showViolations(result.violations ?? []);
  } catch (error) {
    if (run === validationRun) summary.textContent = t('js.entry.validation_failed', { message: error.message });
  }
}
const validateSoon = debounce(validate, 300);

function showViolations(violations) {
  root.querySelectorAll('td.violates').forEach((td) => td.classList.remove('violates'));
  violationList.replaceChildren(...violations.map((v) => el('li',
    { class: `violation importance-${v.importance}`, 'data-rule': v.rule },
    el('strong', {}, v.name),
    el('span', { class: 'badge' }, t(`js.entry.importance.${v.importance}`)),
    el('p', {}, v.message))));
  for (const v of violations) {
    for (const ref of ruleRefs.get(v.rule) ?? []) {
      cells.filter((c) => c.dataset.de === ref.de && (ref.co === null || c.dataset.co === ref.co))
        .forEach((c) => c.closest('td').classList.add('violates'));
    }
  }
  root.dataset.violations = String(violations.length);
  summary.textContent = violations.length
    ? t('js.entry.violations', { count: violations.length }) : t('js.entry.no_violations');
}

// --- keyboard: Enter and arrows move between cells ---------------------------------------------

const tables = [...root.querySelectorAll('table.entry-grid')];
const rowCells = (tr) => [...tr.querySelectorAll('.entry-cell')];
function cellAt(table, row, col) {
  const tr = table.tBodies[0].rows[row];
  if (!tr) return null;
  const list = rowCells(tr);
  return list[Math.min(col, list.length - 1)] ?? null;
}

// Down (step 1) or up (-1) in the same column; Enter at a column's foot goes to the top of the
// next column, then to the next table, as one fills a paper form column by column.
function vertical(input, step, byColumns) {
  const tr = input.closest('tr');
  const table = tr.closest('table');
  const row = [...table.tBodies[0].rows].indexOf(tr);
  const col = rowCells(tr).indexOf(input);
  const next = cellAt(table, row + step, col);
  if (next) return next;
  if (byColumns && step > 0 && col + 1 < rowCells(tr).length) return cellAt(table, 0, col + 1);
  const other = tables[tables.indexOf(table) + step];
  if (!other) return null;
  return step > 0 ? cellAt(other, 0, byColumns ? 0 : col) : cellAt(other, other.tBodies[0].rows.length - 1, col);
}

function move(target) {
  if (!target) return;
  target.focus();
  if (target.tagName === 'INPUT') target.select();
}

function atEdge(input, key) {
  if (input.tagName !== 'INPUT') return true;
  const { selectionStart: start, selectionEnd: end, value } = input;
  return key === 'ArrowLeft' ? start === 0 && end === 0 : start === value.length && end === value.length;
}

root.addEventListener('keydown', (event) => {
  const input = event.target.closest?.('.entry-cell');
  if (!input || event.altKey || event.ctrlKey || event.metaKey) return;
  const index = cells.indexOf(input);
  let target;
  if (event.key === 'Enter') {
    commit(input);
    target = vertical(input, event.shiftKey ? -1 : 1, true);
  } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    target = vertical(input, event.key === 'ArrowDown' ? 1 : -1, false);
  } else if ((event.key === 'ArrowLeft' || event.key === 'ArrowRight') && atEdge(input, event.key)) {
    target = cells[index + (event.key === 'ArrowRight' ? 1 : -1)];
  } else if (event.key === 'Escape' && input.tagName === 'INPUT') {
    input.value = input.dataset.saved;
    commit(input);
    updateTotal(input.closest('tr'));
    return;
  } else {
    return;
  }
  event.preventDefault();
  move(target);
});

root.addEventListener('input', (event) => {
  const input = event.target.closest?.('.entry-cell');
  if (!input) return;
  updateTotal(input.closest('tr'));
  if (input.tagName === 'INPUT') {
    clearTimeout(timers.get(input));
    timers.set(input, setTimeout(() => commit(input), TYPING_MS));
  }
});
root.addEventListener('change', (event) => {
  const input = event.target.closest?.('.entry-cell');
  if (input) commit(input);
});

// --- one cell's details and history -------------------------------------------------------------

const cellName = document.getElementById('entry-cell-name');
const historyButton = document.getElementById('entry-history-button');
const historyBox = document.getElementById('entry-history');
let current = null;

function describe(input) {
  const tr = input.closest('tr');
  const table = tr.closest('table');
  const col = [...tr.children].indexOf(input.closest('td'));
  const option = input.dataset.co ? table.tHead.rows[0].children[col].textContent.trim() : '';
  const name = tr.querySelector('th.el-name').firstChild.textContent.trim();
  return option ? `${name} — ${option}` : name;
}

root.addEventListener('focusin', (event) => {
  const input = event.target.closest?.('.entry-cell');
  if (!input || input === current) return;
  current = input;
  cellName.textContent = describe(input);
  historyButton.hidden = false;
  if (historyBox.dataset.open) showHistory();
});

async function showHistory() {
  if (!current) return;
  const input = current;
  historyBox.dataset.open = 'true';
  const params = new URLSearchParams({ de: input.dataset.de, pe: config.period, ou: config.unit });
  if (input.dataset.co) params.set('co', input.dataset.co);
  historyBox.replaceChildren(el('p', { class: 'muted small' }, t('js.entry.history_loading')));
  try {
    const changes = await api(`/api/v1/dataValues/history?${params}`);
    if (input !== current) return;
    historyBox.replaceChildren(changes.length ? historyTable(changes) : el('p', { class: 'muted small' }, t('js.entry.history_empty')));
  } catch (error) {
    historyBox.replaceChildren(el('p', { class: 'alert alert-error' }, error.message));
  }
}

function historyTable(changes) {
  const show = (value) => (value === null || value === undefined || value === '' ? '∅' : value);
  return el('table', { class: 'table compact history-table' },
    el('thead', {}, el('tr', {}, ...['when', 'who', 'source', 'change'].map((k) => el('th', {}, t(`js.entry.history.${k}`))))),
    el('tbody', {}, ...changes.map((c) => el('tr', { 'data-action': c.action },
      el('td', { class: 'nowrap' }, fmtDateTime(c.changedAt, TIME_ZONE)),
      el('td', {}, c.changedBy),
      el('td', { title: c.sourceDetail ?? '' }, t(`js.entry.source.${c.source}`)),
      el('td', {}, el('del', {}, show(c.oldValue)), ' → ', el('ins', {}, show(c.newValue)))))));
}
historyButton.addEventListener('click', showHistory);

// --- completing and approving -------------------------------------------------------------------

const actionError = document.getElementById('entry-action-error');

async function act(button) {
  actionError.hidden = true;
  const waiting = Object.values(readQueue()).filter(onThisPage).length;
  if (waiting) {
    actionError.textContent = t('js.entry.wait_pending', { count: waiting });
    actionError.hidden = false;
    flush();
    return;
  }
  const action = button.dataset.action;
  const violations = Number(root.dataset.violations || 0);
  if (action === 'complete' && violations && !window.confirm(t('js.entry.confirm_complete', { count: violations }))) return;
  const base = `/api/v1/forms/${encodeURIComponent(config.form)}`;
  const query = new URLSearchParams({ unit: config.unit, period: config.period });
  const body = { unit: config.unit, period: config.period };
  const calls = {
    complete: () => api(`${base}/completions`, { method: 'POST', body }),
    reopen: () => api(`${base}/completions?${query}`, { method: 'DELETE' }),
    approve: () => api(`${base}/approvals`, { method: 'POST', body }),
    unapprove: () => api(`${base}/approvals?${query}`, { method: 'DELETE' }),
  };
  button.disabled = true;
  const label = button.textContent;
  button.textContent = t('js.entry.sending');
  try {
    await calls[action]();
    window.location.reload(); // the page shows the new state, locks and buttons as the server sees them
  } catch (error) {
    actionError.textContent = error.message;
    actionError.hidden = false;
    button.disabled = false;
    button.textContent = label;
  }
}
document.getElementById('entry-actions').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (button) act(button);
});

// --- choosing the form, unit and period -----------------------------------------------------------

const pickers = document.getElementById('entry-pickers');
document.getElementById('entry-form').addEventListener('change', () => {
  document.getElementById('entry-period').value = ''; // another form may have another period type
  pickers.submit();
});
const unitSelect = document.getElementById('entry-unit');
if (unitSelect) {
  unitSelect.addEventListener('change', () => pickers.submit());
  filterSelect(document.getElementById('entry-unit-filter'), unitSelect);
}

// --- start ---------------------------------------------------------------------------------------

for (const item of Object.values(readQueue())) {
  const input = inputFor(item);
  if (input) {
    input.value = item.value; // typed before a reload, not yet acknowledged
    setState(input, 'waiting');
  }
}
root.querySelectorAll('tr[data-de]').forEach(updateTotal);
renderPending();
root.dataset.ready = 'true';
flush();
loadRules().then(validate);
