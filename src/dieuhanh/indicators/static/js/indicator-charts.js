// Small SVG charts drawn here rather than with a chart library (nothing to vendor, nothing to
// load from the internet): this year's months against last year's, and a sparkline.
import { t } from './app.js';

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  node.append(...children);
  return node;
}

const present = (v) => v !== null && v !== undefined && !Number.isNaN(v);

// The value range to draw: from 0 when the figures sit well above it, else around them.
function range(values) {
  const known = values.filter(present);
  if (!known.length) return [0, 1];
  let lo = Math.min(...known);
  let hi = Math.max(...known);
  if (lo >= 0 && lo <= (hi - lo) * 1.5) lo = 0;
  if (hi === lo) {
    hi += Math.abs(hi) * 0.1 || 1;
    lo -= lo === 0 ? 0 : Math.abs(lo) * 0.1;
  }
  const margin = (hi - lo) * 0.08;
  return [lo === 0 ? 0 : lo - margin, hi + margin];
}

// A line broken where a month has no value.
function linePath(values, x, y) {
  let d = '';
  let drawing = false;
  values.forEach((value, index) => {
    if (!present(value)) {
      drawing = false;
      return;
    }
    d += `${drawing ? 'L' : 'M'}${x(index).toFixed(1)},${y(value).toFixed(1)}`;
    drawing = true;
  });
  return d;
}

/**
 * Twelve months of this year against last year's.
 * series: [{label, values: [12 numbers or null], className}], the current year first.
 * options: {width, height, compact, target, format(value) → text}
 */
export function yoyChart(series, { width = 520, height = 210, compact = false, target = null, format = String } = {}) {
  const pad = compact ? { l: 3, r: 3, t: 5, b: 5 } : { l: 52, r: 10, t: 10, b: 44 };
  const [lo, hi] = range([...series.flatMap((s) => s.values), target]);
  const innerW = width - pad.l - pad.r;
  const innerH = height - pad.t - pad.b;
  const x = (i) => pad.l + (innerW * i) / 11;
  const y = (v) => pad.t + ((hi - v) / (hi - lo)) * innerH;
  const title = series.map((s) => `${s.label}: ${s.values.filter(present).length}`).join(', ');
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, class: `yoy ${compact ? 'compact' : ''}`, role: 'img',
    'aria-label': `${t('js.dash.yoy')} (${title})`, preserveAspectRatio: 'none',
  });
  if (!compact) {
    for (const value of [lo, (lo + hi) / 2, hi]) {
      chart.append(svg('line', { x1: pad.l, x2: width - pad.r, y1: y(value), y2: y(value), class: 'grid' }),
        svg('text', { x: pad.l - 6, y: y(value) + 4, 'text-anchor': 'end', class: 'axis' }, format(value)));
    }
    for (let month = 0; month < 12; month += 1) {
      chart.append(svg('text', { x: x(month), y: height - pad.b + 16, 'text-anchor': 'middle', class: 'axis' },
        t('js.dash.month_short', { month: month + 1 })));
    }
  }
  if (present(target)) {
    chart.append(svg('line', { x1: pad.l, x2: width - pad.r, y1: y(target), y2: y(target), class: 'target' },
      svg('title', {}, t('js.dash.target', { value: format(target) }))));
  }
  for (const s of [...series].reverse()) { // this year drawn last, on top
    chart.append(svg('path', { d: linePath(s.values, x, y), class: `line ${s.className}` }));
    if (compact) continue;
    s.values.forEach((value, index) => {
      if (!present(value)) return;
      chart.append(svg('circle', { cx: x(index), cy: y(value), r: 3.5, class: `dot ${s.className}` },
        svg('title', {}, `${t('js.dash.month_short', { month: index + 1 })}/${s.label}: ${format(value)}`)));
    });
  }
  if (!compact) {
    let left = pad.l;
    for (const s of series) {
      chart.append(svg('line', { x1: left, x2: left + 22, y1: height - 8, y2: height - 8, class: `line ${s.className}` }),
        svg('text', { x: left + 27, y: height - 4, class: 'axis' }, s.label));
      left += 90;
    }
  }
  return chart;
}

// A unit's last months, for the map's pop-out panel.
export function sparkline(values, { width = 260, height = 48 } = {}) {
  const [lo, hi] = range(values);
  const x = (i) => 2 + ((width - 4) * i) / Math.max(values.length - 1, 1);
  const y = (v) => 3 + ((hi - v) / (hi - lo)) * (height - 6);
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'sparkline', role: 'img', 'aria-hidden': 'true' },
    svg('path', { d: linePath(values, x, y), class: 'line this-year' }));
}
