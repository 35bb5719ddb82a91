// A report's handling steps (and the Open311 keys and categories pages): each button or small
// form calls the API, then the page reloads to show the new state; an error is shown in place.
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
const problem = document.getElementById('step-error');

async function step(url, body, showKey = false, method = 'POST') {
  const response = await fetch(url, {
    method, credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrf(), 'Content-Type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  if (response.ok && showKey) {
    // A new Open311 key is shown this once: the page is not reloaded over it.
    const answer = await response.json();
    document.getElementById('new-key-value').textContent = answer.api_key;
    document.getElementById('new-key').hidden = false;
    return;
  }
  if (response.ok) {
    window.location.reload();
    return;
  }
  const error = await response.json().catch(() => ({}));
  problem.textContent = error.error?.message ?? response.statusText;
  problem.hidden = false;
}

// The API takes JSON: numbers as numbers, a checkbox as true or false, an empty choice as null.
function formValues(form) {
  const values = {};
  for (const field of form.elements) {
    if (!field.name) continue;
    if (field.type === 'checkbox') values[field.name] = field.checked;
    else if (field.type === 'number') values[field.name] = field.value === '' ? null : Number(field.value);
    else if (field.tagName === 'SELECT' && field.value === '') values[field.name] = null;
    else values[field.name] = field.value;
  }
  return values;
}

for (const button of document.querySelectorAll('button.step')) {
  button.addEventListener('click', () => step(button.dataset.url, button.dataset.body ? JSON.parse(button.dataset.body) : {}));
}
for (const form of document.querySelectorAll('form.step-form')) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    step(form.dataset.url, formValues(form), form.dataset.showKey === 'true', form.dataset.method);
  });
}
