// The rules page: save the YAML (all or none; the error names the rule, the key and the column)
// and try a rule on the events of the last 90 days (nothing is stored).
import { post } from './alerts-api.js';

const labels = JSON.parse(document.getElementById('rules-labels').textContent);
const problem = document.getElementById('rules-error');
const status = document.getElementById('rules-status');

document.getElementById('rules-form')?.addEventListener('submit', async (event) => {
  event.preventDefault();
  problem.hidden = true;
  const saved = await post('/api/v1/alert-rules/yaml', document.getElementById('rules-text').value, 'application/yaml');
  if (saved) {
    status.textContent = labels.saved.replace('{n}', saved.length);
    status.hidden = false;
    setTimeout(() => window.location.reload(), 800);
  }
});

for (const button of document.querySelectorAll('button.try-rule')) {
  button.addEventListener('click', async () => {
    const result = await post('/api/v1/alert-rules/test', { code: button.dataset.code });
    if (result) {
      button.nextElementSibling.textContent = labels.tried
        .replace('{raised}', result.raised).replace('{events}', result.events_read);
    }
  });
}
