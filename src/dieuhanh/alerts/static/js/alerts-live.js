// The alerts page, live: new alerts appear at the top without a reload (server-sent events from
// /api/v1/alerts/stream; the browser reconnects by itself and resumes after the last event it
// saw), changed ones update in place, critical ones sound. Steps call the API.
import { listen, post } from './alerts-api.js';

const table = document.querySelector('#alert-table tbody');
const labels = JSON.parse(document.getElementById('alert-labels').textContent);

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

listen(document.getElementById('live-state'), labels.live, {
  alert: (message) => {
    const alert = JSON.parse(message.data);
    rowFor(alert);
    if (alert.topic === 'alert.raised' && alert.severity === 'critical') beep();
    count();
  },
});

table.addEventListener('click', async (event) => {
  const button = event.target.closest('button.alert-step');
  if (!button) return;
  const id = button.closest('tr').dataset.alert;
  // The change comes back through the stream, like anyone else's.
  await post(`/api/v1/alerts/${id}/${button.dataset.action}`);
});
