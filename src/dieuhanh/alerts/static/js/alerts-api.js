// What the alerts pages share: a POST to the API with the page's CSRF token; an error is shown
// in the page's error line (role=alert) and null returned, else the answer (JSON) or true.
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

export async function post(url, body = {}, type = 'application/json') {
  const response = await fetch(url, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrf(), 'Content-Type': type },
    body: type === 'application/json' ? JSON.stringify(body) : body,
  });
  return answered(response);
}

// A file as multipart form data (the browser sets its Content-Type with the boundary).
export async function upload(url, formData) {
  const response = await fetch(url, {
    method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf() }, body: formData,
  });
  return answered(response);
}

async function answered(response) {
  const answer = await response.json().catch(() => true);
  if (response.ok) return answer;
  const problem = document.querySelector('p.error[role="alert"]');
  problem.textContent = answer?.error?.message ?? response.statusText;
  problem.hidden = false;
  return null;
}

// The live stream: its state in the page's badge, and a handler per kind of event.
export function listen(badge, labels, handlers) {
  const stream = new EventSource('/api/v1/alerts/stream');
  stream.addEventListener('ready', () => { badge.dataset.live = 'on'; badge.textContent = labels.on; });
  stream.addEventListener('error', () => { badge.dataset.live = 'off'; badge.textContent = labels.off; });
  for (const [kind, handler] of Object.entries(handlers)) stream.addEventListener(kind, handler);
  return stream;
}
