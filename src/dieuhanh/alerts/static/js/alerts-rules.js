// The rules page: save the YAML (all or none; the error names the rule, the key and the column)
// and try a rule on the events of the last 90 days (nothing is stored).
const labels = JSON.parse(document.getElementById('rules-labels').textContent);
const problem = document.getElementById('rules-error');
const status = document.getElementById('rules-status');
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

function show(element, text) {
  problem.hidden = true;
  status.hidden = true;
  element.textContent = text;
  element.hidden = false;
}

async function call(url, body, type) {
  const response = await fetch(url, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrf(), 'Content-Type': type }, body,
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) show(problem, answer.error?.message ?? response.statusText);
  return response.ok ? answer : null;
}

document.getElementById('rules-form')?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const saved = await call('/api/v1/alert-rules/yaml', document.getElementById('rules-text').value, 'application/yaml');
  if (saved) {
    show(status, labels.saved.replace('{n}', saved.length));
    setTimeout(() => window.location.reload(), 800);
  }
});

for (const button of document.querySelectorAll('button.try-rule')) {
  button.addEventListener('click', async () => {
    const result = await call('/api/v1/alert-rules/test', JSON.stringify({ code: button.dataset.code }), 'application/json');
    if (result) {
      button.nextElementSibling.textContent = labels.tried
        .replace('{raised}', result.raised).replace('{events}', result.events_read);
    }
  });
}
