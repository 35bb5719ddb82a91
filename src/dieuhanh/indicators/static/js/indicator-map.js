// The choropleth: the province's commune polygons from the imported boundaries (no tile server
// needed), each filled by its figure for one period: the indicator's legend band when it has
// one, else the quantile of the figure among the communes'. Clicking a commune selects it.
import { addBaseTiles, api, el, escapeHtml, t } from './app.js';

export const BAND_FILL = { green: '#5cb85c', yellow: '#f0c419', red: '#e0453a' };
export const QUANTILE_FILL = ['#eef4fb', '#c0d8ee', '#7fb0dc', '#3b82c4', '#12508f'];
const NO_VALUE = '#d9dde3';

// Quantile class limits of the values (at most 5 classes, fewer for few distinct values).
export function quantileBreaks(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return [];
  const classes = Math.min(QUANTILE_FILL.length, new Set(sorted).size);
  const breaks = [];
  for (let k = 1; k < classes; k += 1) breaks.push(sorted[Math.floor((k * sorted.length) / classes)]);
  return [...new Set(breaks)];
}

export function quantileOf(value, breaks) {
  let index = 0;
  while (index < breaks.length && value >= breaks[index]) index += 1;
  // Spread the classes used over the palette so 2 classes are light and dark, not two lights.
  return breaks.length ? Math.round((index * (QUANTILE_FILL.length - 1)) / breaks.length) : 2;
}

export class IndicatorMap {
  constructor(container, { onSelect }) {
    this.container = container;
    this.onSelect = onSelect;
    this.layers = new Map(); // unit code → polygon layer
    this.fills = new Map(); // unit code → {fill, band, text}
    this.selected = null;
    this.map = L.map(container, { zoomSnap: 0.25, attributionControl: true });
    addBaseTiles(this.map, container);
  }

  async load() {
    const province = encodeURIComponent(this.container.dataset.province);
    const data = await api(`/api/v1/boundaries?parent=${province}`);
    const shapes = L.geoJSON(data, {
      style: (feature) => this.style(feature.properties.code),
      onEachFeature: (feature, layer) => {
        const { code, name } = feature.properties;
        this.layers.set(code, layer);
        layer.bindTooltip(escapeHtml(name), { sticky: true, className: 'commune-tooltip' });
        layer.on('click', () => this.onSelect(code, name));
      },
    }).addTo(this.map);
    if (data.attribution) this.map.attributionControl.addAttribution(escapeHtml(data.attribution));
    if (data.features.length) this.map.fitBounds(shapes.getBounds(), { padding: [6, 6] });
    else this.map.setView([11.0, 107.0], 9);
    for (const [code, layer] of this.layers) {
      const path = layer.getElement();
      if (path) path.dataset.unit = code;
    }
    this.container.dataset.features = String(this.layers.size);
  }

  style(code) {
    const fill = this.fills.get(code);
    const chosen = code === this.selected;
    return {
      color: chosen ? '#0a355b' : '#4a5b6e', weight: chosen ? 3 : 0.8,
      fillColor: fill?.fill ?? NO_VALUE, fillOpacity: fill ? 0.85 : 0.5, className: 'commune-shape',
    };
  }

  // fills: Map unit code → {fill, band, text}; codes not in it are drawn as "no value".
  paint(fills) {
    this.fills = fills;
    for (const [code, layer] of this.layers) {
      layer.setStyle(this.style(code));
      const fill = fills.get(code);
      const name = layer.feature.properties.name;
      layer.setTooltipContent(fill ? `${name}: ${fill.text}` : `${name}: ${t('js.dash.no_value')}`);
      const path = layer.getElement();
      if (path) path.dataset.band = fill?.band ?? 'none';
    }
    this.container.dataset.painted = String([...fills.keys()].filter((c) => this.layers.has(c)).length);
  }

  select(code) {
    const before = this.selected;
    this.selected = code;
    for (const c of [before, code]) {
      const layer = this.layers.get(c);
      if (layer) {
        layer.setStyle(this.style(c));
        if (c === code) layer.bringToFront();
      }
    }
  }
}

// The legend under the map: the bands with their labels, or the quantile ranges.
export function legendItems(items) {
  return items.map(({ fill, label }) => el('span', {}, el('i', { class: 'swatch', style: `background:${fill}` }), label));
}
