// One alert's page: a step calls the API, then the page shows the alert as it now is.
import { post } from './alerts-api.js';

document.getElementById('alert-detail').addEventListener('click', async (event) => {
  const button = event.target.closest('button.alert-step');
  if (!button) return;
  const id = event.currentTarget.dataset.alert;
  if (await post(`/api/v1/alerts/${id}/${button.dataset.action}`)) window.location.reload();
});
