// Forms sent as JSON to the API (<form class="json-form" data-method data-action data-redirect>).
import { api, t } from './app.js';

function fieldValue(input) {
  if (input.type === 'checkbox') return input.checked;
  if (input.value === '') return null;
  if (input.type === 'number') return Number(input.value);
  return input.value;
}

function formBody(form) {
  const body = {};
  for (const input of form.querySelectorAll('input[name], select[name], textarea[name]')) {
    const value = fieldValue(input);
    // A new record omits empty fields; an edited one clears them.
    if (value !== null || form.dataset.method === 'PATCH') body[input.name] = value;
  }
  return body;
}

export function showError(message) {
  const box = document.querySelector('.alert-error[id]');
  if (!box) { window.alert(message); return; }
  box.textContent = message;
  box.hidden = false;
  box.scrollIntoView({ block: 'nearest' });
}

for (const form of document.querySelectorAll('form.json-form')) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const saved = await api(form.dataset.action, { method: form.dataset.method, body: formBody(form) });
      window.location.href = form.dataset.redirect.replace('{id}', saved?.id ?? '');
    } catch (error) {
      showError(t('js.save_failed', { message: error.message }));
      button.disabled = false;
    }
  });
}
