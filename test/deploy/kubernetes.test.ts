import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { makeNetns, netnsUnavailable } from '../../src/kernel/netns.ts';
import { collect, ROOT } from '../helpers/cli.ts';
import { spawnUntilReady } from '../helpers/cli-server.ts';

// deploy/kubernetes against the Kubernetes API schema, offline: kubernetes-models ships the API's
// OpenAPI definitions (Kubernetes 1.36) compiled into JSON-schema validators, and TypeScript interfaces
// made from the same definitions, whose excess-property check finds the fields the schema lets through
// (it does not forbid unknown ones). What no schema can see is checked by hand below; what is not
// checked at all is in deploy/kubernetes/README.md.

const DIR = `${ROOT}deploy/kubernetes/`;
const NODE = `${ROOT}node_modules/.bin/node`;

// biome-ignore lint/suspicious/noExplicitAny: manifests are whatever YAML the files hold.
type Manifest = { apiVersion: string; kind: string; [key: string]: any };

function manifests(): { file: string; object: Manifest }[] {
  return readdirSync(DIR)
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((doc) => {
        assert.deepEqual(doc.errors, [], `${file}: YAML`);
        return { file, object: doc.toJS() as Manifest };
      }),
    );
}

// The model class of a built-in kind: kubernetes-models/<group>/<version> exports one per kind.
async function model(object: Manifest) {
  const module = (await import(`kubernetes-models/${object.apiVersion}`).catch(() => ({}))) as Record<
    string,
    { is(value: unknown): boolean; new (data: unknown): { validate(): void } } | undefined
  >;
  const Model = module[object.kind];
  if (!Model?.is(object)) assert.fail(`${object.apiVersion} ${object.kind} is not a built-in kind`);
  return Model;
}

const schemaErrors = async (object: Manifest): Promise<string | undefined> => {
  const Model = await model(object);
  try {
    new Model(object).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
};

// Each manifest as a TypeScript constant of its kind's interface, checked by tsc: an unknown or
// misspelled field is an excess property there. Returns tsc's complaints ('' when none).
async function unknownFields(objects: Manifest[]): Promise<string> {
  const dir = join(ROOT, 'test-artifacts', `kubernetes-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const lines = objects.flatMap((object, i) => {
      const from = `kubernetes-models/${object.apiVersion}/${object.kind}`;
      return [
        `import type { I${object.kind} as T${i} } from '${from}';`,
        `export const m${i}: T${i} = ${JSON.stringify(object)};`,
      ];
    });
    writeFileSync(join(dir, 'manifests.ts'), `${lines.join('\n')}\n`);
    const tsc = spawn(
      `${ROOT}node_modules/.bin/tsc`,
      ['--ignoreConfig', '--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2022'].concat([
        '--skipLibCheck',
        join(dir, 'manifests.ts'),
      ]),
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const result = await collect(tsc);
    return `${result.stdout}${result.stderr}`.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every manifest is a built-in kind, valid against the Kubernetes API schema, with no unknown field', async () => {
  const all = manifests();
  assert.deepEqual(all.map((m) => m.object.kind).sort(), ['Deployment', 'PodDisruptionBudget', 'Service']);
  for (const { file, object } of all)
    assert.equal(await schemaErrors(object), undefined, `${file} ${object.kind}`);
  assert.equal(await unknownFields(all.map((m) => m.object)), '');
});

test('the checks refuse what the API server would: a wrong type, an unknown value, a missing field, a misspelled one', async () => {
  const deployment = manifests().find((m) => m.object.kind === 'Deployment')?.object as Manifest;
  const broken = (change: (copy: Manifest) => void) => {
    const copy = structuredClone(deployment);
    change(copy);
    return copy;
  };
  const cases: [string, Manifest, RegExp][] = [
    ['replicas as text', broken((d) => (d.spec.replicas = 'three')), /replicas must be integer/],
    [
      'protocol QUIC',
      broken((d) => (d.spec.template.spec.containers[0].ports[0].protocol = 'QUIC')),
      /protocol must be equal to one of the allowed values/,
    ],
    ['no selector', broken((d) => delete d.spec.selector), /spec must have required property selector/],
  ];
  for (const [what, object, message] of cases)
    assert.match((await schemaErrors(object)) ?? 'accepted', message, what);
  const misspelled = broken((d) => (d.spec.template.spec.terminationGracePeriodSecond = 20));
  assert.equal(await schemaErrors(misspelled), undefined, 'the schema itself lets unknown fields through');
  assert.match(
    await unknownFields([misspelled]),
    /'"?terminationGracePeriodSecond"?' does not exist in type/,
  );
});

// What the schema cannot see: the objects' references to each other, and to daytime's own options.
test('the manifests agree with each other and with the daytime serve arguments they run', () => {
  const byKind = (kind: string) => manifests().find((m) => m.object.kind === kind)?.object as Manifest;
  const deployment = byKind('Deployment');
  const pod = deployment.spec.template;
  const labels: Record<string, string> = pod.metadata.labels;
  const selects = (selector: Record<string, string>) =>
    Object.entries(selector).every(([key, value]) => labels[key] === value);
  assert.ok(selects(deployment.spec.selector.matchLabels), 'the Deployment selects its own pods');
  assert.ok(selects(byKind('Service').spec.selector), 'the Service selects them');
  assert.ok(selects(byKind('PodDisruptionBudget').spec.selector.matchLabels), 'the budget covers them');

  const [container] = pod.spec.containers;
  const ports = new Map<string, number>(container.ports.map((p: Manifest) => [p.name, p.containerPort]));
  for (const name of ports.keys())
    assert.match(name, /^(?=.{1,15}$)[a-z0-9]+(-[a-z0-9]+)*$/, `port name ${name}`);
  for (const { targetPort } of byKind('Service').spec.ports)
    assert.ok(ports.has(targetPort), `targetPort ${targetPort}`);
  for (const probe of [container.readinessProbe, container.livenessProbe])
    assert.ok(ports.has(probe.tcpSocket.port), `probe port ${probe.tcpSocket.port}`);

  const args: string[] = container.args;
  const flag = (name: string) => args[args.indexOf(name) + 1] ?? '';
  assert.equal(args[0], 'serve');
  assert.equal(Number(flag('--port')), ports.get('daytime'));
  assert.equal(Number(flag('--time-port')), ports.get('time'));
  assert.equal(Number(flag('--metrics').split(':').at(-1)), ports.get('metrics'));
  // The kubelet's SIGKILL must not cut the drain short: the preStop sleep, then --drain-timeout.
  const grace = pod.spec.terminationGracePeriodSeconds;
  assert.ok(grace > container.lifecycle.preStop.sleep.seconds + Number(flag('--drain-timeout')));
  assert.equal(pod.spec.securityContext.runAsNonRoot, true);
});

test("the container's arguments, as written, start daytime serve and it answers on the ports the pod declares", async (t) => {
  const why = netnsUnavailable('ip netns');
  if (why)
    return t.skip(`${why}: the pod's ports (9999, 3737, 9464) are bound in a namespace of the test's own`);
  const deployment = manifests().find((m) => m.object.kind === 'Deployment')?.object as Manifest;
  const [container] = deployment.spec.template.spec.containers;
  const ns = makeNetns('k8s');
  try {
    const [command = '', ...rest] = ns.exec([NODE, `${ROOT}dist/cli.js`, ...container.args]);
    const server = await spawnUntilReady(command, rest);
    try {
      const run = (args: string[]) => {
        const [file = '', ...more] = ns.exec([NODE, ...args]);
        return collect(spawn(file, more, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }));
      };
      const daytime = await run([`${ROOT}dist/cli.js`, 'get', '127.0.0.1:9999']);
      assert.equal(daytime.code, 0, daytime.stderr);
      const time = await run([`${ROOT}dist/cli.js`, 'get', '127.0.0.1:3737', '--time']);
      assert.equal(time.code, 0, time.stderr);
      const scrape =
        'fetch("http://127.0.0.1:9464/metrics").then((r) => r.text()).then((t) => process.stdout.write(t))';
      assert.match(
        (await run(['-e', scrape])).stdout,
        /^daytime_served_total\{service="daytime",transport="tcp"\} 1$/m,
      );
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  } finally {
    ns.remove();
  }
});
