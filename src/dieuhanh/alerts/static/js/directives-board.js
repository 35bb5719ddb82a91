// The directives board: a unit's steps call the API; any directive event in the stream (one's
// own step, another commune's, a late step found by the worker) refreshes the board.
import { listen, post, upload } from './alerts-api.js';

const labels = JSON.parse(document.getElementById('directive-labels').textContent);

document.getElementById('directive-board').addEventListener('click', async (event) => {
  const button = event.target.closest('button.directive-step');
  if (!button) return;
  const steps = button.closest('.steps');
  const body = {};
  const text = steps.querySelector('.text')?.value;
  const percent = steps.querySelector('.percent')?.value;
  if (text) body.text = text;
  if (button.dataset.action === 'progress' && percent !== '') body.percent = Number(percent);
  if (await post(`${steps.dataset.url}/${button.dataset.action}`, body)) window.location.reload();
});

// A file to the directive (its issuer) or to a unit's report (that unit): multipart, checked by
// the server from its content.
document.getElementById('directive-board').addEventListener('click', async (event) => {
  const button = event.target.closest('button.directive-attach');
  if (!button) return;
  const place = button.closest('.attach');
  const file = place.querySelector('input[type=file]').files[0];
  if (!file) return;
  const data = new FormData();
  data.append('file', file);
  if (await upload(place.dataset.url, data)) window.location.reload();
});

const form = document.getElementById('issue-form');
form?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const body = {
    title: data.get('title'), body: data.get('body'), priority: data.get('priority'),
    deadline: new Date(data.get('deadline')).toISOString(),
    unit_codes: String(data.get('unit_codes') || '').split(/[\s,;]+/).filter(Boolean),
    all_units: data.get('all_units') === 'on',
  };
  if (await post(form.dataset.url, body)) window.location.reload();
});

listen(document.getElementById('live-state'), labels, { directive: () => window.location.reload() });
