// The playground page: controls in, the run's snapshot out. Every figure comes from the app's API
// (GET /api/config, POST/PATCH/DELETE /api/run, the /api/events stream), which reads the kernel.
import { drawLanes } from './lanes.js';
import { rateText, View } from './view.js';

const RATES = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 'max'];
const FIELDS = ['backlog', 'clients', 'arrivalPerSecond', 'clientTimeoutS', 'maxDurationS'];
// Clients a second when they come one after another and none is given.
const ARRIVAL = 10;
const SYSCTLS = ['somaxconn', 'tcp_syncookies', 'tcp_abort_on_overflow', 'tcp_syn_linear_timeouts'];

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get('token') ?? '';
const view = new View();
const page = { config: null, snapshot: null, history: [], frame: 0, sysctls: false };

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error?.message ?? `${response.status} ${response.statusText}`);
  return data;
}

function alertUser(message) {
  const box = $('alert');
  box.hidden = !message;
  box.textContent = message ?? '';
}

// The slider's position for a rate (the nearest step), and back.
const rateAt = (position) => RATES[Number(position)] ?? 0;
function positionOf(rate) {
  if (rate === 'max') return RATES.length - 1;
  let best = 0;
  for (let i = 0; i < RATES.length - 1; i++)
    if (Math.abs(RATES[i] - rate) < Math.abs(RATES[best] - rate)) best = i;
  return best;
}

// All at once is 0 clients a second; the number field is for one after another.
function showArrival(once) {
  $('arrival-once').checked = once;
  $('arrival-rate').checked = !once;
  $('arrivalPerSecond').disabled = once;
  if (once) $('arrivalPerSecond').value = '';
  else if (!(Number($('arrivalPerSecond').value) > 0)) $('arrivalPerSecond').value = String(ARRIVAL);
}

function showRate() {
  const rate = rateAt($('accepts').value);
  $('accepts-out').textContent = rate === 'max' ? 'max' : rate === 0 ? '0: off' : `${rate}/s`;
  $('accepts').setAttribute('aria-valuetext', rateText(rate));
}

function formParams() {
  const params = {};
  for (const name of FIELDS) params[name] = Number($(name).value);
  if ($('arrival-once').checked) params.arrivalPerSecond = 0;
  params.acceptsPerSecond = rateAt($('accepts').value);
  for (const name of SYSCTLS) if ($(name).value !== '') params[name] = Number($(name).value);
  return params;
}

function fillForm(params) {
  const defaults = page.config.defaults;
  for (const name of FIELDS) $(name).value = String(params[name] ?? defaults[name]);
  showArrival(Number($('arrivalPerSecond').value) === 0);
  $('accepts').value = String(positionOf(params.acceptsPerSecond ?? defaults.acceptsPerSecond));
  for (const name of SYSCTLS)
    $(name).value = page.sysctls && params[name] !== undefined ? String(params[name]) : '';
  showRate();
}

// The parameters live in the address, after the token, so a run can be shared and repeated.
function paramsFromUrl() {
  const query = new URLSearchParams(location.search);
  const params = {};
  for (const name of [...FIELDS, ...SYSCTLS]) {
    const value = query.get(name);
    if (value !== null && value !== '' && Number.isFinite(Number(value))) params[name] = Number(value);
  }
  const rate = query.get('acceptsPerSecond');
  if (rate === 'max') params.acceptsPerSecond = 'max';
  else if (rate !== null && Number.isFinite(Number(rate))) params.acceptsPerSecond = Number(rate);
  return params;
}

function writeUrl() {
  const params = formParams();
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) query.set(name, String(value));
  $('share-params').textContent = `&${query}`;
  query.set('token', token);
  history.replaceState(null, '', `?${query}`);
}

function setupControls(config) {
  for (const name of [...FIELDS, 'somaxconn', 'tcp_syn_linear_timeouts']) {
    $(name).min = String(config.limits[name].min);
    $(name).max = String(config.limits[name].max);
  }
  $('accepts').max = String(RATES.length - 1);
  $('arrivalPerSecond').min = '1';
  page.sysctls = config.sysctls.available;
  const why = $('sysctls-why');
  if (page.sysctls) {
    why.textContent =
      'Each run gets a network namespace of its own; these apply there, the machine keeps its own.';
  } else {
    why.textContent = `Shown, not settable: ${config.sysctls.reason}. Runs use this machine's values: ${Object.entries(
      config.sysctls.host,
    )
      .map(([k, v]) => `${k.split('.').pop()} ${v ?? 'n/a'}`)
      .join(', ')}.`;
    for (const name of SYSCTLS) {
      $(name).disabled = true;
      $(name).title = config.sysctls.reason;
    }
  }
  const presets = $('presets');
  for (const preset of config.presets) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = preset.title;
    button.dataset.preset = preset.id;
    button.setAttribute('aria-pressed', 'false');
    const needs = SYSCTLS.some((s) => preset.params[s] !== undefined);
    if (needs && !page.sysctls) {
      button.disabled = true;
      button.title = `needs its own namespace: ${config.sysctls.reason}`;
    }
    button.addEventListener('click', () => {
      fillForm(preset.params);
      for (const b of presets.children) b.setAttribute('aria-pressed', String(b === button));
      $('preset-note').textContent = preset.note;
      writeUrl();
    });
    presets.append(button);
  }
}

function running() {
  const status = page.snapshot?.status;
  return status === 'starting' || status === 'running';
}

function syncButtons() {
  const going = running();
  $('run').disabled = going;
  $('stop').disabled = !going;
  $('setup').disabled = going;
  $('sysctls').disabled = going || !page.sysctls;
  for (const b of $('presets').children) b.disabled = going || (b.title !== '' && !page.sysctls);
}

function schedule() {
  if (page.frame) return;
  page.frame = requestAnimationFrame(() => {
    page.frame = 0;
    if (!page.snapshot) return;
    view.render(page.snapshot);
    drawLanes($('lanes'), page.snapshot, page.history);
    syncButtons();
    document.dispatchEvent(new CustomEvent('playground:rendered', { detail: page.snapshot }));
  });
}

function applyTick(tick) {
  const s = page.snapshot;
  // Ticks of a run this page no longer follows (after Reset) are left alone.
  if (!s || tick.run !== s.run) return;
  const { clients, ...rest } = tick;
  Object.assign(s, rest);
  if (clients) for (const c of clients) s.clients[c.id - 1] = c;
  const queued = s.listener?.queued;
  const last = page.history.at(-1);
  if (queued !== undefined && (!last || last[1] !== queued)) page.history.push([s.elapsedS, queued]);
  schedule();
}

function listen() {
  const events = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
  events.addEventListener('snapshot', (event) => {
    page.snapshot = JSON.parse(event.data);
    page.history = page.snapshot.listener ? [[page.snapshot.elapsedS, page.snapshot.listener.queued]] : [];
    schedule();
  });
  events.addEventListener('tick', (event) => applyTick(JSON.parse(event.data)));
}

// Accepts per second goes to the run as the slider moves: one request at a time, the latest value wins.
let sending = false;
let wanted;
async function sendRate(rate) {
  wanted = rate;
  if (sending) return;
  sending = true;
  try {
    while (wanted !== undefined) {
      const next = wanted;
      wanted = undefined;
      await call('PATCH', '/api/run', { acceptsPerSecond: next });
    }
  } catch (error) {
    alertUser(error.message);
  } finally {
    sending = false;
  }
}

async function main() {
  try {
    page.config = await call('GET', '/api/config');
  } catch (error) {
    alertUser(`${error.message}. Open the address that daytime playground printed.`);
    return;
  }
  setupControls(page.config);
  fillForm({ ...page.config.defaults, ...paramsFromUrl() });
  writeUrl();
  listen();
  for (const id of ['arrival-once', 'arrival-rate']) {
    $(id).addEventListener('change', () => {
      showArrival($('arrival-once').checked);
      writeUrl();
    });
  }
  $('params').addEventListener('input', () => {
    for (const b of $('presets').children) b.setAttribute('aria-pressed', 'false');
    writeUrl();
  });
  // The knob next to the queue: it sets the next run's rate, and the running one's at once.
  $('accepts').addEventListener('input', () => {
    showRate();
    if (running()) sendRate(rateAt($('accepts').value));
    writeUrl();
  });
  $('params').addEventListener('submit', async (event) => {
    event.preventDefault();
    alertUser();
    try {
      const started = await call('POST', '/api/run', formParams());
      // The stream usually brings the new run first; its ticks must not be overwritten.
      if (!page.snapshot || page.snapshot.run < started.run) {
        page.snapshot = started;
        page.history = [];
        schedule();
      }
    } catch (error) {
      alertUser(error.message);
    }
  });
  $('stop').addEventListener('click', () => call('DELETE', '/api/run').catch((e) => alertUser(e.message)));
  $('reset').addEventListener('click', async () => {
    alertUser();
    if (running()) await call('DELETE', '/api/run').catch(() => {});
    fillForm(page.config.defaults);
    for (const b of $('presets').children) b.setAttribute('aria-pressed', 'false');
    $('preset-note').textContent = '';
    writeUrl();
    page.snapshot = {
      ...(page.snapshot ?? {}),
      status: 'idle',
      run: -1,
      clients: [],
      listener: null,
      counters: {},
      summary: null,
      acceptChanges: [],
      elapsedS: 0,
      namespace: null,
    };
    page.history = [];
    schedule();
  });
}

main();
