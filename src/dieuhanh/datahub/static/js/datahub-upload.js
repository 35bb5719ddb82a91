// Sending a file to an upload source: a preview of every row first (nothing written), then the
// import; rows in error are listed with their row number and column, as in the person's file.
import { t } from './app.js';

const form = document.getElementById('upload-form');
const commit = document.getElementById('upload-commit');
const status = document.getElementById('upload-status');
const columns = JSON.parse(document.getElementById('upload-columns').textContent);

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function showProblems(problems) {
  const section = document.getElementById('upload-problems');
  const rows = problems.map((problem) => {
    const tr = document.createElement('tr');
    tr.className = 'row-error';
    tr.append(cell(String(problem.record)), cell(problem.field), cell(problem.message));
    return tr;
  });
  section.querySelector('tbody').replaceChildren(...rows);
  section.hidden = rows.length === 0;
}

function showRows(rows, problems) {
  const bad = new Set(problems.map((problem) => problem.record));
  const section = document.getElementById('upload-rows');
  const trs = rows.map((row) => {
    const tr = document.createElement('tr');
    if (bad.has(row.row)) tr.className = 'row-error';
    tr.append(cell(String(row.row)), ...columns.map((key) => cell(row.values[key] ?? '')));
    return tr;
  });
  section.querySelector('tbody').replaceChildren(...trs);
  section.hidden = trs.length === 0;
}

async function send(dryRun) {
  const data = new FormData(form);
  data.set('dry_run', dryRun ? 'true' : 'false');
  const response = await fetch(`/api/v1/sources/${encodeURIComponent(form.dataset.code)}/upload`, {
    method: 'POST', body: data, credentials: 'same-origin',
    headers: { 'X-CSRF-Token': document.querySelector('meta[name="csrf-token"]').content },
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error?.message ?? response.statusText);
  return body;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  commit.disabled = true;
  status.textContent = t('js.datahub.reading');
  try {
    const preview = await send(true);
    status.textContent = t('js.datahub.preview', preview);
    showProblems(preview.problems);
    showRows(preview.rows, preview.problems);
    commit.disabled = preview.fetched === preview.rejected;
  } catch (error) {
    status.textContent = error.message;
  }
});

commit.addEventListener('click', async () => {
  commit.disabled = true;
  status.textContent = t('js.datahub.importing');
  try {
    const result = await send(false);
    status.textContent = result.status === 'failed'
      ? result.error : t('js.datahub.imported', result);
    showProblems(result.problems);
  } catch (error) {
    status.textContent = error.message;
  }
});
