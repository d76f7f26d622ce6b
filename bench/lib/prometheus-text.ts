// The samples of a Prometheus text exposition (format 0.0.4, what /metrics serves), for the harness
// and the tests. No npm package fits: the one parser there is (parse-prometheus-text-format) has had no
// release since 2019 and no types, and groups samples into families where these callers want samples.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  // The name and labels as the exposition wrote them (`name{a="1",b="2"}`): one series, as a key.
  series: string;
  value: number;
}

// name, {labels} (label values may hold braces), value, an optional timestamp.
const LINE = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+-?\d+)?[ \t]*$/;
const LABEL = /\s*([A-Za-z_]\w*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;
const ESCAPES: Record<string, string> = { n: '\n', '"': '"', '\\': '\\' };

// Every sample, in order; comments (# HELP, # TYPE), blank lines and lines that are not a sample are
// passed over.
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    const [, name = '', labelText, valueText = ''] = match;
    const labels = labelText === undefined ? {} : parseLabels(labelText);
    const value = sampleNumber(valueText);
    if (labels === undefined || value === undefined) continue;
    samples.push({ name, labels, series: labelText === undefined ? name : `${name}{${labelText}}`, value });
  }
  return samples;
}

// The value of `name` with exactly these labels (none: the bare sample); undefined where there is none.
export function sampleValue(
  exposition: string | Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels);
  const samples = typeof exposition === 'string' ? parseSamples(exposition) : exposition;
  return samples.find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === wanted.length &&
      wanted.every(([key, value]) => s.labels[key] === value),
  )?.value;
}

function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text);
    if (!match) return undefined;
    labels[match[1] ?? ''] = (match[2] ?? '').replace(/\\(.)/g, (all, c: string) => ESCAPES[c] ?? all);
  }
  return labels;
}

function sampleNumber(text: string): number | undefined {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  return text !== '' && !Number.isNaN(value) ? value : undefined;
}
