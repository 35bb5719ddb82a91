// Helpers shared by the indicator and report pages: numbers in the reader's language, short
// period labels, and searches that ignore diacritics (as dieuhanh.text.fold does on the server).

export const lang = document.documentElement.lang === 'en' ? 'en' : 'vi';
const LOCALE = lang === 'en' ? 'en-GB' : 'vi-VN';

export function fold(text) {
  return String(text ?? '')
    .replace(/đ/g, 'd').replace(/Đ/g, 'D')
    .normalize('NFD').replace(/[\u0300-\u036f]/g, '')
    .toLowerCase().replace(/[^0-9a-z]+/g, ' ').trim();
}

// Every word of the query appears in the text, diacritics and case ignored.
export function matches(text, query) {
  const words = fold(query).split(' ').filter(Boolean);
  const haystack = ` ${fold(text)} `;
  return words.every((word) => haystack.includes(word));
}

export function fmtNumber(value, decimals = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return new Intl.NumberFormat(LOCALE, {
    minimumFractionDigits: decimals, maximumFractionDigits: decimals,
  }).format(value);
}

// "6,0%" for percentages, "1.234 hồ sơ" for counts with a unit of measure.
export function fmtValue(value, decimals, unit) {
  const number = fmtNumber(value, decimals);
  if (number === '—' || !unit) return number;
  return unit === '%' ? `${number}%` : `${number} ${unit}`;
}

// 202603 → 03/2026, 2026Q1 → Q1/2026, 2026S2 → S2/2026, 2026W10 → W10/2026, 20260315 → 15/03/2026.
export function periodShort(code) {
  let m = /^(\d{4})(\d{2})(\d{2})$/.exec(code);
  if (m) return `${m[3]}/${m[2]}/${m[1]}`;
  m = /^(\d{4})(\d{2})$/.exec(code);
  if (m) return `${m[2]}/${m[1]}`;
  m = /^(\d{4})([QSW])(\d+)$/.exec(code);
  if (m) return `${m[2]}${m[3]}/${m[1]}`;
  return code;
}

// A period as people read it, in the page's language (the API labels periods in the account's).
const ROMAN = ['I', 'II', 'III', 'IV'];
export function periodLabel(code) {
  let m = /^(\d{4})(\d{2})$/.exec(code);
  if (m) {
    if (lang === 'vi') return `Tháng ${m[2]}/${m[1]}`;
    return new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' })
      .format(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)));
  }
  m = /^(\d{4})Q([1-4])$/.exec(code);
  if (m) return lang === 'vi' ? `Quý ${ROMAN[m[2] - 1]}/${m[1]}` : `Q${m[2]} ${m[1]}`;
  return periodShort(code);
}

// The monthly period ``n`` months after ``code`` (negative: before).
export function monthOffset(code, n) {
  const year = Number(code.slice(0, 4));
  const month = Number(code.slice(4, 6)) - 1 + n;
  const y = year + Math.floor(month / 12);
  const mm = ((month % 12) + 12) % 12 + 1;
  return `${y}${String(mm).padStart(2, '0')}`;
}

export function fmtDateTime(value, timeZone) {
  if (!value) return '';
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(value));
  const part = (type) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('day')}/${part('month')}/${part('year')} ${part('hour')}:${part('minute')}`;
}

// Options of a <select> hidden unless they match the filter box (a unit picker of 95 communes).
export function filterSelect(input, select) {
  input.addEventListener('input', () => {
    let first = null;
    for (const option of select.options) {
      const shown = matches(option.textContent, input.value);
      option.hidden = !shown;
      if (shown && !first) first = option;
    }
    if (first && select.selectedOptions[0]?.hidden) select.value = first.value;
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      select.dispatchEvent(new Event('change'));
    }
  });
}
