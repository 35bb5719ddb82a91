// The directives board: a unit's steps call the API; any directive event in the stream (one's
// own step, another commune's, a late step found by the worker) refreshes the board.
const labels = JSON.parse(document.getElementById('directive-labels').textContent);
const liveState = document.getElementById('live-state');
const problem = document.getElementById('step-error');
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

async function send(url, body) {
  const response = await fetch(url, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrf(), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const error = await response.json().catch(() => ({}));
    problem.textContent = error.error?.message ?? response.statusText;
    problem.hidden = false;
  }
  return response.ok;
}

document.getElementById('directive-board').addEventListener('click', async (event) => {
  const button = event.target.closest('button.directive-step');
  if (!button) return;
  const steps = button.closest('.steps');
  const body = {};
  const text = steps.querySelector('.text')?.value;
  const percent = steps.querySelector('.percent')?.value;
  if (text) body.text = text;
  if (button.dataset.action === 'progress' && percent !== '') body.percent = Number(percent);
  if (await send(`${steps.dataset.url}/${button.dataset.action}`, body)) window.location.reload();
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
  if (await send(form.dataset.url, body)) window.location.reload();
});

const stream = new EventSource('/api/v1/alerts/stream');
stream.addEventListener('ready', () => { liveState.dataset.live = 'on'; liveState.textContent = labels.on; });
stream.addEventListener('error', () => { liveState.dataset.live = 'off'; liveState.textContent = labels.off; });
stream.addEventListener('directive', () => window.location.reload());
