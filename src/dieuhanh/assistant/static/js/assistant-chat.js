// The chat panel: keyboard first (Enter sends, ↑ recalls the last question, Esc clears, Alt+1…9
// picks a proposed choice); each answer shows its figures' query, links and, for a trend, a
// small chart drawn with the indicators dashboard's own chart code.
import { api, t } from './app.js';
import { sparkline } from './indicator-charts.js';

const log = document.getElementById('assistant-log');
const form = document.getElementById('assistant-form');
const input = document.getElementById('assistant-question');
let conversationId = null;
let lastQuestion = '';
let choices = [];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function showAnswer(reply) {
  const item = el('li', { class: 'answer', tabindex: '-1' }, el('p', { class: 'text' }, reply.answer));
  for (const note of reply.notes.filter((n) => n.includes(' '))) item.append(el('p', { class: 'note' }, note));
  for (const query of reply.queries) {
    item.append(el('p', { class: 'query' }, `${t('js.assistant.query')}: ${query.text}`));
  }
  if (reply.chart) {
    for (const series of reply.chart.series) {
      const values = series.values.map((v) => (v === null ? NaN : v));
      const chart = sparkline(values, { width: 420, height: 64 });
      chart.setAttribute('aria-label', `${series.name}: ${reply.chart.labels[0]} – ${reply.chart.labels.at(-1)}`);
      item.append(chart);
    }
  }
  if (reply.links.length) {
    const links = el('p', { class: 'links' });
    for (const link of reply.links) links.append(el('a', { href: link.href }, link.label));
    item.append(links);
  }
  choices = reply.clarify;
  if (choices.length) {
    const box = el('div', { class: 'choices' });
    choices.forEach((choice, index) => {
      const button = el('button', { type: 'button', 'data-question': choice.question }, `${index + 1}. ${choice.label}`);
      box.append(button);
    });
    item.append(box);
  }
  log.append(item);
  item.scrollIntoView({ block: 'nearest' });
}

async function send(question) {
  const text = question.trim();
  if (!text) return;
  lastQuestion = text;
  log.append(el('li', { class: 'question' }, text));
  input.value = '';
  input.disabled = true;
  try {
    const reply = await api('/api/v1/assistant/ask', {
      method: 'POST', body: { question: text, conversation_id: conversationId },
    });
    conversationId = reply.conversation_id;
    showAnswer(reply);
  } catch (error) {
    log.append(el('li', { class: 'answer error', role: 'alert' }, t('js.assistant.failed', { message: error.message })));
  } finally {
    input.disabled = false;
    input.focus();
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  send(input.value);
});
input.addEventListener('keydown', (event) => {
  if (event.key === 'ArrowUp' && !input.value) {
    input.value = lastQuestion;
    event.preventDefault();
  } else if (event.key === 'Escape') {
    input.value = '';
  } else if (event.altKey && /^[1-9]$/.test(event.key) && choices[Number(event.key) - 1]) {
    event.preventDefault();
    send(choices[Number(event.key) - 1].question);
  }
});
document.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-question]');
  if (button) send(button.dataset.question);
});
