// The data hub's status page: "run now" calls the API, then reloads to show the new run.
for (const button of document.querySelectorAll('button.run-now')) {
  button.addEventListener('click', async () => {
    button.disabled = true;
    const response = await fetch(`/api/v1/sources/${encodeURIComponent(button.dataset.code)}/run`, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'X-CSRF-Token': document.querySelector('meta[name="csrf-token"]').content },
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      button.title = body.error?.message ?? response.statusText;
      button.disabled = false;
      return;
    }
    window.location.reload();
  });
}
