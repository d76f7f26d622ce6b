// The numbers and tables of the page, drawn from the run's snapshot (the API's own JSON). No figure is
// computed here that the kernel did not give; capacity is the kernel's rule, backlog + 1.

export const STATES = {
  waiting: { label: 'not started', short: 'not started', color: '#d5dae1' },
  connecting: { label: 'connecting (SYN sent)', short: 'SYN sent', color: '#f2b233' },
  retransmitting: { label: 'SYN retransmitted', short: 'SYN again', color: '#e0672b' },
  'half-open': { label: 'ACK dropped (half-open)', short: 'half-open', color: '#a266c4' },
  queued: { label: 'in the accept queue', short: 'in the queue', color: '#3b7dd8' },
  accepted: { label: 'accepted', short: 'accepted', color: '#17a2a0' },
  served: { label: 'served', short: 'served', color: '#2f9e4f' },
  refused: { label: 'refused', short: 'refused', color: '#8c564b' },
  reset: { label: 'reset', short: 'reset', color: '#d62728' },
  lost: { label: 'lost (server holds nothing)', short: 'lost', color: '#1d2430' },
  'timed-out': { label: 'gave up', short: 'gave up', color: '#8d96a3' },
  error: { label: 'failed', short: 'failed', color: '#d62728' },
  stopped: { label: 'stopped with the run', short: 'stopped', color: '#b9c0ca' },
};

// A connecting client whose SYN went again is drawn in its own colour: that wait is the backlog's doing.
export const stateKey = (state, retransmits) =>
  state === 'connecting' && retransmits > 0 ? 'retransmitting' : state;

const $ = (id) => document.getElementById(id);
const fmt = (s) => (s === null || s === undefined ? '' : s.toFixed(2));
const rateText = (rate) =>
  rate === 'max' ? 'as fast as possible' : rate === 0 ? 'not accepting' : `${rate} a second`;

export { rateText };

export class View {
  #rows = [];
  #rendered = [];
  #counters = new Map();
  #run = -1;

  render(snapshot) {
    if (snapshot.run !== this.#run || snapshot.clients.length !== this.#rows.length) this.#reset(snapshot);
    this.#status(snapshot);
    this.#gauge(snapshot);
    this.#counts(snapshot);
    this.#counterTable(snapshot);
    this.#clientTable(snapshot);
    this.#summary(snapshot);
  }

  #reset(snapshot) {
    this.#run = snapshot.run;
    this.#counters.clear();
    const body = $('client-table').tBodies[0];
    body.replaceChildren();
    this.#rows = snapshot.clients.map((c) => {
      const row = document.createElement('tr');
      row.dataset.client = String(c.id);
      for (let i = 0; i < 5; i++) row.append(document.createElement('td'));
      row.cells[0].textContent = String(c.id);
      body.append(row);
      return row;
    });
    this.#rendered = [];
    $('clients-details').open = snapshot.clients.length <= 40;
  }

  #status(s) {
    const text = {
      idle: 'No run yet. Choose a preset or set the controls, then Run.',
      starting: 'Starting…',
      running: `Running: ${s.elapsedS.toFixed(1)} s, ${rateText(s.acceptsPerSecond)}.`,
      finished: `Finished after ${s.elapsedS.toFixed(1)} s.`,
      stopped: `Stopped after ${s.elapsedS.toFixed(1)} s.`,
      failed: `Failed: ${s.error ?? 'no reason given'}`,
    }[s.status];
    setText($('status'), text);
    const where = s.namespace
      ? `In a network namespace of its own (its process: ${s.namespace.pid}; see it with sudo nsenter -t ${s.namespace.pid} -n ss -ltn): its counters and sysctls are the run's alone.`
      : s.status === 'idle'
        ? ''
        : "In this machine's own network namespace: the counters include any other traffic.";
    setText($('where'), where);
  }

  #gauge(s) {
    const l = s.listener;
    const capacity = l ? l.backlog + 1 : 1;
    const queued = l ? l.queued : 0;
    setText($('queue-text'), l ? `${queued} / ${capacity}` : '–');
    const gauge = $('gauge');
    gauge.max = capacity;
    // Below capacity is the good range; full is flagged as the meter's high region.
    gauge.high = Math.max(capacity - 0.5, 0.5);
    gauge.optimum = 0;
    gauge.value = Math.min(queued, capacity);
    gauge.setAttribute('aria-valuetext', `${queued} queued of ${capacity}`);
    setText(
      $('queue-note'),
      l
        ? `queued / capacity: ${queued} connections wait for accept(); backlog in force ${l.backlog} (the kernel holds backlog + 1), peak ${l.peakQueued}. Port ${l.port}.`
        : '',
    );
  }

  #counts(s) {
    const counts = new Map(Object.keys(STATES).map((k) => [k, 0]));
    for (const c of s.clients) {
      const key = stateKey(c.state, c.retransmits);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const list = $('counts');
    if (list.children.length === 0) {
      for (const [key, info] of Object.entries(STATES)) {
        const item = document.createElement('li');
        item.dataset.state = key;
        item.style.setProperty('--c', info.color);
        list.append(item);
      }
    }
    for (const item of list.children) {
      const n = counts.get(item.dataset.state) ?? 0;
      setText(item, `${STATES[item.dataset.state].label}: ${n}`);
      item.classList.toggle('zero', n === 0);
    }
  }

  #counterTable(s) {
    const body = $('counter-table').tBodies[0];
    for (const [name, value] of Object.entries(s.counters)) {
      let row = body.querySelector(`tr[data-counter="${name}"]`);
      if (!row) {
        row = document.createElement('tr');
        row.dataset.counter = name;
        row.append(document.createElement('td'), document.createElement('td'));
        // A break opportunity between words of the name, for narrow screens.
        row.cells[0].textContent = name.replace(/^TcpExt/, '').replace(/([a-z])([A-Z])/g, '$1\u200b$2');
        row.cells[0].title = name;
        body.append(row);
      }
      const before = this.#counters.get(name);
      if (before !== value) {
        row.cells[1].textContent = `+${value}`;
        row.classList.remove('moved');
        if (before !== undefined) {
          void row.offsetWidth;
          row.classList.add('moved');
        }
        this.#counters.set(name, value);
      }
    }
    if (Object.keys(s.counters).length === 0) body.replaceChildren();
  }

  #clientTable(s) {
    for (const c of s.clients) {
      const row = this.#rows[c.id - 1];
      if (!row) continue;
      const key = `${c.state}|${c.retransmits}|${c.connectedS}|${c.servedS}`;
      if (this.#rendered[c.id - 1] === key) continue;
      this.#rendered[c.id - 1] = key;
      const shown = stateKey(c.state, c.retransmits);
      row.dataset.state = c.state;
      row.dataset.retransmits = String(c.retransmits);
      row.cells[1].style.setProperty('--c', STATES[shown].color);
      row.cells[1].textContent = STATES[shown].short;
      row.cells[1].title = STATES[shown].label;
      row.cells[2].textContent = String(c.retransmits);
      row.cells[3].textContent =
        c.connectedS !== null && c.startedS !== null ? fmt(c.connectedS - c.startedS) : '';
      row.cells[4].textContent = c.servedS !== null && c.startedS !== null ? fmt(c.servedS - c.startedS) : '';
    }
  }

  #summary(s) {
    const box = $('summary');
    box.hidden = !s.summary;
    if (!s.summary) return;
    setText($('summary-text'), s.summary.text);
    const link = $('summary-link');
    link.href = s.summary.question.href;
    setText(link, `${s.summary.question.id}: ${s.summary.question.question}`);
  }
}

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}
