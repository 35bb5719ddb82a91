// The data hub's pages: "run now" (a source, a reconciliation, an aggregate) and "resolve" (a
// reconciliation's difference) call the API, then reload to show the result.
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

async function post(url, body) {
  const response = await fetch(url, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrf(), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.ok) return null;
  const error = await response.json().catch(() => ({}));
  return error.error?.message ?? response.statusText;
}

for (const button of document.querySelectorAll('button.run-now')) {
  button.addEventListener('click', async () => {
    button.disabled = true;
    const url = button.dataset.url ?? `/api/v1/sources/${encodeURIComponent(button.dataset.code)}/run`;
    const problem = await post(url);
    if (problem) {
      button.title = problem;
      button.disabled = false;
      return;
    }
    window.location.reload();
  });
}

for (const form of document.querySelectorAll('form.resolve')) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    const problem = await post(form.dataset.url, { resolution: form.elements.resolution.value });
    if (problem) {
      form.elements.resolution.setCustomValidity(problem);
      form.reportValidity();
      form.elements.resolution.setCustomValidity('');
      button.disabled = false;
      return;
    }
    window.location.reload();
  });
}

// The declaration forms: a figure shows the inputs of its kind (an element's stored values, or
// a dataset's records), and its field inputs suggest the fields of the dataset chosen.
for (const fieldset of document.querySelectorAll('fieldset[data-figure]')) {
  const kind = fieldset.querySelector('select.figure-kind');
  const dataset = fieldset.querySelector('select.figure-dataset-name');
  kind?.addEventListener('change', () => {
    fieldset.querySelector('.figure-element').hidden = kind.value !== 'element';
    fieldset.querySelector('.figure-dataset').hidden = kind.value === 'element';
  });
  dataset?.addEventListener('change', () => {
    for (const input of fieldset.querySelectorAll('input.field-input')) {
      input.setAttribute('list', `fields-${dataset.value}`);
    }
    const output = fieldset.querySelector('output.unit-field');
    output.textContent = dataset.selectedOptions[0]?.dataset.unit || output.dataset.none;
  });
}
