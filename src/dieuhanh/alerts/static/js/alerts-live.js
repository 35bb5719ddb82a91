// The alerts page, live: new alerts appear at the top without a reload (server-sent events from
// /api/v1/alerts/stream; the browser reconnects by itself and resumes after the last event it
// saw), changed ones update in place, critical ones sound. Steps call the API.
const table = document.querySelector('#alert-table tbody');
const labels = JSON.parse(document.getElementById('alert-labels').textContent);
const liveState = document.getElementById('live-state');
const problem = document.getElementById('step-error');
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

function when(iso) {
  const d = new Date(iso);
  const two = (n) => String(n).padStart(2, '0');
  return `${two(d.getDate())}/${two(d.getMonth() + 1)}/${d.getFullYear()} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

// A short tone, made here: no sound file to fetch. Browsers allow it once the page was used.
function beep() {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.4);
  } catch (error) { /* no audio: the row still shows */ }
}

function rowFor(alert) {
  let row = table.querySelector(`tr[data-alert="${alert.id}"]`);
  if (!row) {
    row = document.getElementById('alert-row').content.firstElementChild.cloneNode(true);
    row.dataset.alert = alert.id;
    table.querySelector('tr.none')?.remove();
    table.prepend(row);
    row.querySelector('.opened').textContent = when(alert.at);
  }
  row.className = `severity-${alert.severity} fresh`;
  const badge = row.querySelector('.badge');
  badge.className = `badge severity-${alert.severity}`;
  badge.textContent = labels.severity[alert.severity];
  row.querySelector('td:nth-child(2)').textContent = alert.title;
  row.querySelector('td:nth-child(3)').textContent = alert.unit_name ?? alert.unit_code ?? labels.province;
  row.querySelector('.alert-state').textContent = labels.state[alert.state];
  for (const button of row.querySelectorAll('.alert-step')) {
    const applies = alert.state === 'open' || (button.dataset.action === 'resolve' && alert.state !== 'resolved');
    button.hidden = !applies;
  }
  return row;
}

function count() {
  document.getElementById('alert-count').textContent = `(${table.querySelectorAll('tr[data-alert]').length})`;
}

const stream = new EventSource('/api/v1/alerts/stream');
stream.addEventListener('ready', () => { liveState.dataset.live = 'on'; liveState.textContent = labels.live.on; });
stream.addEventListener('error', () => { liveState.dataset.live = 'off'; liveState.textContent = labels.live.off; });
stream.addEventListener('alert', (message) => {
  const alert = JSON.parse(message.data);
  rowFor(alert);
  if (alert.topic === 'alert.raised' && alert.severity === 'critical') beep();
  count();
});

table.addEventListener('click', async (event) => {
  const button = event.target.closest('button.alert-step');
  if (!button) return;
  const id = button.closest('tr').dataset.alert;
  const response = await fetch(`/api/v1/alerts/${id}/${button.dataset.action}`, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrf(), 'Content-Type': 'application/json' }, body: '{}',
  });
  if (!response.ok) {
    const error = await response.json().catch(() => ({}));
    problem.textContent = error.error?.message ?? response.statusText;
    problem.hidden = false;
  }
  // The change comes back through the stream, like anyone else's.
});
