// Camera pages: probe now, delete, and the survey upload with its preview.
import { api, el, t } from './app.js';
import { showError } from './forms.js';

const probeButton = document.getElementById('probe-now');
probeButton?.addEventListener('click', async () => {
  probeButton.disabled = true;
  probeButton.textContent = t('js.probing');
  try {
    await api(`/api/v1/cameras/${probeButton.dataset.camera}/probe`, { method: 'POST' });
    window.location.reload();
  } catch (error) {
    showError(error.message);
    probeButton.disabled = false;
  }
});

const deleteButton = document.getElementById('delete-camera');
deleteButton?.addEventListener('click', async () => {
  if (!window.confirm(t('js.confirm_delete'))) return;
  try {
    await api(`/api/v1/cameras/${deleteButton.dataset.camera}`, { method: 'DELETE' });
    window.location.href = '/cameras';
  } catch (error) {
    showError(error.message);
  }
});

// The survey: upload → preview (dry run) → commit the same file.
const upload = document.getElementById('survey-upload');
if (upload) {
  const preview = document.getElementById('survey-preview');
  const commit = document.getElementById('survey-commit');

  async function send(dryRun) {
    const data = new FormData(upload);
    data.set('dry_run', dryRun ? 'true' : 'false');
    const response = await fetch('/api/v1/cameras/import', {
      method: 'POST', body: data, credentials: 'same-origin',
      headers: { 'X-CSRF-Token': document.querySelector('meta[name="csrf-token"]').content },
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error?.message ?? response.statusText);
    return body;
  }

  function show(report) {
    document.getElementById('survey-summary').textContent = t('js.survey.summary', report);
    const rows = report.preview.map((row) => el('tr', { class: row.errors.length ? 'row-error' : '' },
      el('td', {}, String(row.line)),
      el('td', {}, [row.unit_code, row.values.camera_type, row.values.manufacturer, row.values.model,
        `× ${row.values.count}`, row.values.location].filter(Boolean).join(' · ')),
      el('td', {}, row.errors.join('; ') || '✓')));
    document.querySelector('#survey-rows tbody').replaceChildren(...rows);
    preview.hidden = false;
    commit.disabled = report.valid === 0;
  }

  upload.addEventListener('submit', async (event) => {
    event.preventDefault();
    try { show(await send(true)); } catch (error) { showError(error.message); }
  });
  commit.addEventListener('click', async () => {
    commit.disabled = true;
    try {
      const report = await send(false);
      const ok = document.getElementById('survey-ok');
      ok.textContent = t('js.survey.done', report);
      ok.hidden = false;
      show(report);
      commit.disabled = true;
    } catch (error) { showError(error.message); commit.disabled = false; }
  });
}
