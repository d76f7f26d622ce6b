// The run on a canvas: on top, the accept queue against its capacity over time; below, one lane per
// client through the states its socket went through. Drawn whole on each frame that has news: 500
// lanes of a few segments each is a few thousand rectangles.
import { STATES, stateKey } from './view.js';

const BAND = 44;
const AXIS = 20;

export function drawLanes(canvas, snapshot, queueHistory) {
  const clients = snapshot.clients;
  const n = Math.max(clients.length, 1);
  const rowH = n <= 24 ? 16 : Math.max(1, Math.floor(480 / n));
  const gap = rowH >= 6 ? 2 : 0;
  const gutter = rowH >= 12 ? 30 : 6;
  const height = BAND + n * rowH + AXIS + 8;
  if (canvas.style.height !== `${height}px`) canvas.style.height = `${height}px`;
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  const now = snapshot.elapsedS;
  const span = Math.max(now, 2);
  const right = width - 6;
  const x = (t) => gutter + (Math.min(t, span) / span) * (right - gutter);
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'middle';

  // The accept queue: filled steps of queued, a dashed line at capacity (backlog + 1).
  const l = snapshot.listener;
  if (l) {
    const capacity = l.backlog + 1;
    const top = Math.max(capacity, l.peakQueued, 1);
    const y = (q) => BAND - 6 - (q / top) * (BAND - 18);
    g.fillStyle = 'rgba(59, 125, 216, 0.35)';
    g.strokeStyle = '#3b7dd8';
    g.beginPath();
    g.moveTo(x(0), y(0));
    let last = 0;
    for (const [t, q] of queueHistory) {
      g.lineTo(x(t), y(last));
      g.lineTo(x(t), y(q));
      last = q;
    }
    g.lineTo(x(now), y(last));
    g.lineTo(x(now), y(0));
    g.closePath();
    g.fill();
    g.setLineDash([4, 3]);
    g.strokeStyle = '#c2410c';
    g.beginPath();
    g.moveTo(x(0), y(capacity));
    g.lineTo(right, y(capacity));
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = '#5a6473';
    g.textAlign = 'right';
    g.fillText(`accept queue; capacity ${capacity}`, right, 7);
  }

  // One lane per client.
  for (const c of clients) {
    const y0 = BAND + (c.id - 1) * rowH;
    const h = Math.max(1, rowH - gap);
    const steps = c.steps;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      const end = i + 1 < steps.length ? steps[i + 1].atS : c.done ? step.atS : now;
      const key = stateKey(step.state, step.retransmits);
      g.fillStyle = STATES[key]?.color ?? '#999';
      const x0 = x(step.atS);
      g.fillRect(x0, y0, Math.max(x(end) - x0, c.done && i === steps.length - 1 ? 3 : 0), h);
      if (key === 'retransmitting' && rowH >= 3) {
        g.fillStyle = '#1d2430';
        g.fillRect(x0 - 0.5, y0, 1.5, h);
      }
    }
    if (gutter > 6) {
      g.fillStyle = '#5a6473';
      g.textAlign = 'right';
      g.fillText(String(c.id), gutter - 4, y0 + h / 2);
    }
  }

  // Changes of Accepts per second.
  const bottom = BAND + n * rowH;
  g.strokeStyle = '#1f5fbf';
  g.fillStyle = '#1f5fbf';
  g.textAlign = 'left';
  // Labels that would run into the previous one go a line higher.
  let lastEnd = Number.NEGATIVE_INFINITY;
  let row = 0;
  for (const change of snapshot.acceptChanges ?? []) {
    const cx = x(change.atS);
    g.setLineDash([3, 3]);
    g.beginPath();
    g.moveTo(cx, BAND - 4);
    g.lineTo(cx, bottom);
    g.stroke();
    g.setLineDash([]);
    const label =
      change.rate === 'max'
        ? 'accepting: max'
        : change.rate === 0
          ? 'not accepting'
          : `accepting ${change.rate}/s`;
    const lx = Math.min(cx + 3, right - g.measureText(label).width);
    row = lx < lastEnd + 4 ? (row + 1) % 2 : 0;
    g.fillText(label, lx, BAND - 10 - row * 13);
    lastEnd = lx + g.measureText(label).width;
  }

  // Time axis, in whole seconds.
  const step = span <= 10 ? 1 : span <= 30 ? 5 : span <= 120 ? 10 : 30;
  g.fillStyle = '#5a6473';
  g.strokeStyle = '#d9dee5';
  g.textAlign = 'center';
  for (let t = 0; t <= span + 1e-9; t += step) {
    const tx = x(t);
    g.beginPath();
    g.moveTo(tx, bottom + 2);
    g.lineTo(tx, bottom + 6);
    g.stroke();
    g.fillText(`${t} s`, Math.min(Math.max(tx, gutter + 8), right - 10), bottom + 13);
  }
}
