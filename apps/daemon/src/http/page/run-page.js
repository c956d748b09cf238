/* global document, window, fetch, sessionStorage, location, URLSearchParams */
// The run-history page: reads the run API (no token needed), and sends cancel and retry with the
// operator's bearer token, asked for in a dialog when first needed and kept for this browser tab
// only. Refreshing puts the keyboard focus back where it was, and live regions are written only
// when what they say changes, so that a screen reader does not hear the same thing every 2 s.
'use strict';

const REFRESH_MS = 2000;
const RETRYABLE = ['failed', 'abandoned', 'interrupted', 'cancelled'];
const TOKEN_KEY = 'pipeline-token';
const ACTIONS = {
  cancel: {
    heading: 'Cancel this run?',
    what: (id) =>
      `Run ${id} stops at its next safe point: its open transaction rolls back and the stages after it are skipped.`,
    yes: 'Cancel the run',
    no: 'Keep it running',
  },
  retry: {
    heading: 'Retry this run?',
    what: (id) =>
      `A new run for the same business date starts from the first stage run ${id} did not finish.`,
    yes: 'Start the retry',
    no: 'Not now',
  },
};
let refreshTimer = null;

const $ = (selector) => document.querySelector(selector);

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Runs `render`, then focuses again the element that had the focus if `render` replaced it. */
function keepingFocus(render) {
  const key = document.activeElement?.getAttribute('data-focus');
  render();
  if (!key || document.activeElement?.getAttribute('data-focus') === key) return;
  const again = [...document.querySelectorAll('[data-focus]')].find(
    (n) => n.getAttribute('data-focus') === key,
  );
  again?.focus();
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function duration(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 100) / 10;
  return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

const statusLabel = (status) => element('span', { class: `status status-${status}` }, status);
const selectedRun = () => new URLSearchParams(location.hash.slice(1)).get('run');

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function renderRuns(runs) {
  const body = $('#runs tbody');
  const selected = selectedRun();
  body.replaceChildren(
    ...runs.map((run) =>
      element(
        'tr',
        { 'data-run': run.id, 'aria-current': String(run.id === selected) },
        element(
          'td',
          {},
          element('a', { href: `#run=${run.id}`, 'data-focus': `run-${run.id}` }, run.id.slice(0, 8)),
        ),
        element('td', {}, statusLabel(run.status)),
        element('td', {}, run.run_date),
        element('td', {}, run.trigger),
        element('td', {}, new Date(run.started_at).toLocaleString()),
        element('td', {}, duration(run.duration_ms)),
      ),
    ),
  );
}

function renderRun(run) {
  $('#run').hidden = false;
  $('#run-heading').textContent = `Run ${run.id}`;
  const facts = [
    ['Status', statusLabel(run.status)],
    ['Business date', run.run_date],
    ['Trigger', run.trigger],
    ['Started', new Date(run.started_at).toLocaleString()],
    ['Duration', duration(run.duration_ms)],
  ];
  if (run.resumed_from) facts.push(['Resumes', run.resumed_from]);
  $('#run-facts').replaceChildren(
    ...facts.flatMap(([term, value]) => [element('dt', {}, term), element('dd', {}, value)]),
  );
  // An alert: written only when it changes, or it would be announced again on every refresh.
  setText($('#run-error'), run.error ?? '');
  $('#run-error').className = `error status-${run.status}`;
  $('#cancel').hidden = run.status !== 'running';
  $('#retry').hidden = !RETRYABLE.includes(run.status);

  // Bars on one time axis: the run's start to its end (or now, while it runs).
  const start = Date.parse(run.started_at);
  const end = run.finished_at ? Date.parse(run.finished_at) : Date.now();
  const span = Math.max(end - start, 1);
  $('#timeline').replaceChildren(
    ...run.stages.map((stage) => {
      const from = stage.started_at ? Date.parse(stage.started_at) : null;
      const to = stage.finished_at ? Date.parse(stage.finished_at) : from !== null ? Date.now() : null;
      const bar = element('span', { class: `bar status-${stage.status}` });
      bar.hidden = from === null;
      if (from !== null) {
        bar.style.left = `${(((from - start) / span) * 100).toFixed(2)}%`;
        bar.style.width = `${(((to - from) / span) * 100).toFixed(2)}%`;
      }
      const rows = stage.rows
        .map((r) => `${r.table}: ${r.written ?? r.read ?? 0}`)
        .slice(0, 3)
        .join(', ');
      const item = element(
        'li',
        { 'data-stage': stage.stage },
        element('span', {}, element('strong', {}, stage.stage), ' ', statusLabel(stage.status)),
        element(
          'span',
          { class: 'track', role: 'img', 'aria-label': `${stage.stage}: ${duration(stage.duration_ms)}` },
          bar,
        ),
        element(
          'span',
          {},
          `${stage.attempts} attempt${stage.attempts === 1 ? '' : 's'}, ${duration(stage.duration_ms)}${rows ? `; ${rows}` : ''} · `,
          element(
            'a',
            {
              href: `/runs/${run.id}/logs?stage=${encodeURIComponent(stage.stage)}&limit=10000`,
              'data-focus': `logs-${stage.stage}`,
            },
            'logs',
          ),
        ),
      );
      if (stage.error && stage.status !== 'succeeded')
        item.append(element('p', { class: `stage-error status-${stage.status}` }, stage.error));
      return item;
    }),
  );
}

async function refresh() {
  clearTimeout(refreshTimer);
  let active;
  try {
    const list = await getJson('/runs?limit=25');
    keepingFocus(() => renderRuns(list.runs));
    active = list.runs.some((r) => r.status === 'running');
    const id = selectedRun();
    if (id) {
      const run = await getJson(`/runs/${id}`);
      keepingFocus(() => renderRun(run));
      active ||= run.status === 'running';
    }
    setText($('#refresh-note'), active ? 'A run is active: refreshing every 2 s' : '');
  } catch (error) {
    setText($('#refresh-note'), `Could not load the runs (${error.message}); retrying`);
    active = true;
  }
  if (active) refreshTimer = setTimeout(refresh, REFRESH_MS);
}

function showTokenState() {
  $('#forget-token').hidden = !sessionStorage.getItem(TOKEN_KEY);
}

/**
 * Asks the operator to confirm `action` on run `id`, with the token when this tab has none yet.
 * Resolves to the token to send, or null when the operator said no (or closed the dialog).
 */
function confirmAction(action, id) {
  const dialog = $('#confirm');
  const copy = ACTIONS[action];
  const stored = sessionStorage.getItem(TOKEN_KEY);
  $('#confirm-heading').textContent = copy.heading;
  $('#confirm-what').textContent = copy.what(id);
  $('#confirm-yes').textContent = copy.yes;
  $('#confirm-no').textContent = copy.no;
  $('#token-field').hidden = Boolean(stored);
  $('#token').required = !stored;
  $('#token').value = '';
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        const token = stored ?? $('#token').value.trim();
        $('#token').value = '';
        if (dialog.returnValue !== 'yes' || !token) return resolve(null);
        sessionStorage.setItem(TOKEN_KEY, token);
        showTokenState();
        resolve(token);
      },
      { once: true },
    );
  });
}

async function act(action) {
  const id = selectedRun();
  if (!id) return;
  const bearer = await confirmAction(action, id);
  if (!bearer) return;
  const response = await fetch(`/runs/${id}/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}` },
  });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showTokenState();
  }
  setText(
    $('#action-result'),
    response.ok
      ? action === 'cancel'
        ? 'Cancel requested: the run stops within a heartbeat.'
        : `Retry started: run ${body.run_id}`
      : `${action} refused (${response.status}): ${body.message ?? ''}${response.status === 401 ? ' (the token was forgotten)' : ''}`,
  );
  if (response.ok && action === 'retry') location.hash = `run=${body.run_id}`;
  await refresh();
}

$('#cancel').addEventListener('click', () => void act('cancel'));
$('#retry').addEventListener('click', () => void act('retry'));
$('#forget-token').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showTokenState();
  setText($('#action-result'), 'The token is forgotten: cancel and retry will ask for it again.');
});
window.addEventListener('hashchange', () => {
  setText($('#action-result'), '');
  void refresh();
});
showTokenState();
void refresh();
