// The report form's map: the communes' boundaries (no tile server), a pin where one taps, or
// where the phone says it is. The pin fills the form's lat/long.
const holder = document.getElementById('report-map');
const form = document.getElementById('report-form');
const hint = document.getElementById('pin-text');
const L = window.L;

if (holder && L) {
  const map = L.map(holder, { zoomControl: true, attributionControl: false });
  let pin = null;
  const place = (lat, lng) => {
    form.elements.lat.value = lat.toFixed(6);
    form.elements.long.value = lng.toFixed(6);
    if (pin) pin.setLatLng([lat, lng]); else pin = L.circleMarker([lat, lng], { radius: 8 }).addTo(map);
    hint.textContent = `${lat.toFixed(5)}, ${lng.toFixed(5)}`;
  };
  fetch(holder.dataset.geojson)
    .then((response) => (response.ok ? response.json() : null))
    .then((collection) => {
      if (!collection) return;
      const layer = L.geoJSON(collection, { style: { weight: 1, color: '#2b6', fillOpacity: 0.05 } }).addTo(map);
      map.fitBounds(layer.getBounds());
      const lat = parseFloat(form.elements.lat.value);
      const lng = parseFloat(form.elements.long.value);
      if (!Number.isNaN(lat) && !Number.isNaN(lng)) place(lat, lng);
    });
  map.on('click', (event) => place(event.latlng.lat, event.latlng.lng));
  document.getElementById('locate-me').addEventListener('click', () => {
    if (!navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition((position) => {
      place(position.coords.latitude, position.coords.longitude);
      map.setView([position.coords.latitude, position.coords.longitude], 16);
    });
  });
}

// The chosen category's own questions (a road's hazard…): shown, and sent, for it alone.
const category = form?.elements.category;
const showFields = () => {
  for (const fieldset of document.querySelectorAll('fieldset.extra-fields')) {
    const mine = fieldset.dataset.category === category.value;
    fieldset.hidden = !mine;
    fieldset.disabled = !mine;
  }
};
category?.addEventListener('change', showFields);
