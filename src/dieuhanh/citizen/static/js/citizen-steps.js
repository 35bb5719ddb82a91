// A report's handling steps: each button or small form calls the API, then the page reloads
// to show the new status and history; an error is shown in place.
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
const problem = document.getElementById('step-error');

async function step(url, body) {
  const response = await fetch(url, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrf(), 'Content-Type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  if (response.ok) {
    window.location.reload();
    return;
  }
  const error = await response.json().catch(() => ({}));
  problem.textContent = error.error?.message ?? response.statusText;
  problem.hidden = false;
}

for (const button of document.querySelectorAll('button.step')) {
  button.addEventListener('click', () => step(button.dataset.url, button.dataset.body ? JSON.parse(button.dataset.body) : {}));
}
for (const form of document.querySelectorAll('form.step-form')) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    step(form.dataset.url, Object.fromEntries(new FormData(form)));
  });
}
