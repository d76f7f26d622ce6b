import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command, Option } from 'commander';
import { COMMANDS } from '../../src/cli/commands/all.ts';
import { createProgram } from '../../src/cli/program.ts';
import { OptionConflictError } from '../../src/errors.ts';
import { normalizeFleetOptions } from '../../src/fleet/run-fleet.ts';
import { normalizeBenchOptions, normalizeQueryOptions, normalizeServeOptions } from '../../src/index.ts';
import { SERVE_OPTIONS } from '../../src/options/serve.ts';
import { normalizeInetd } from '../../src/process/inetd.ts';
import { runBin } from '../helpers/cli.ts';

const commandOf = (name: string) => createProgram().commands.find((c) => c.name() === name) as Command;
const declared = (command: Command) => command.options.filter((o: Option) => o.long !== '--help');

test('each command has exactly its declared options, under their declared names', () => {
  for (const decl of COMMANDS) {
    const names = declared(commandOf(decl.name)).map((o) => o.attributeName());
    assert.deepEqual(names, Object.keys(decl.options), decl.name);
  }
});

// What --help shows as a default is what the library applies when the option is left out: given as
// shown, nothing changes. Options whose default is a phrase ("no limit") have no value to give.
const libraries: Record<string, { normalize: (input: object) => unknown; context?: Record<string, object> }> =
  {
    serve: {
      normalize: normalizeServeOptions,
      context: {
        udpRate: { udp: true },
        udpGlobalRate: { udp: true },
        udpIo: { udp: true },
        proxyTimeout: { proxyProtocol: true, proxyFrom: 'any' },
      },
    },
    get: { normalize: normalizeQueryOptions },
    bench: { normalize: normalizeBenchOptions },
    fleet: { normalize: (input) => normalizeFleetOptions(input) },
  };

test("the default each --help shows is the library's", () => {
  let compared = 0;
  for (const [name, { normalize, context = {} }] of Object.entries(libraries)) {
    for (const option of declared(commandOf(name))) {
      const shown = option.defaultValueDescription;
      const key = option.attributeName();
      const decl = COMMANDS.find((c) => c.name === name)?.options[key];
      if (shown === undefined || decl?.defaultText !== undefined) continue;
      const base = context[key] ?? {};
      assert.deepEqual(normalize({ ...base, [key]: shown }), normalize(base), `${name} --${key} ${shown}`);
      compared++;
    }
  }
  assert.ok(compared >= 15, `${compared} defaults compared`);
});

test('--inetd refuses every option but --format, --quiet and --log-format, write-timeout and udp-io too', () => {
  const allowed = ['inetd', 'format', 'quiet', 'logFormat'];
  for (const name of Object.keys(SERVE_OPTIONS).filter((n) => !allowed.includes(n))) {
    assert.throws(
      () => normalizeInetd({ inetd: true, [name]: '1' } as object),
      (error: unknown) =>
        error instanceof OptionConflictError && error.kind === 'conflicts' && error.options[1] === name,
      name,
    );
  }
  assert.deepEqual(
    normalizeInetd({ inetd: 'time', format: 'iso', quiet: true, logFormat: 'json' } as object),
    {
      service: 'time',
      format: 'iso',
    },
  );
  assert.deepEqual(normalizeInetd({ inetd: true }), { service: 'daytime', format: 'ctime' });
});

test('every command refuses a flag given twice, but --host collects', () => {
  let refused = 0;
  for (const decl of COMMANDS) {
    for (const [name, option] of Object.entries(decl.options)) {
      if (!option.arg || option.repeatable) continue;
      const flag = `--${declared(commandOf(decl.name))
        .find((o) => o.attributeName() === name)
        ?.name()}`;
      assert.throws(
        () => commandOf(decl.name).parseOptions([flag, '1', flag, '2']),
        (error: unknown) => error instanceof OptionConflictError && error.kind === 'repeated',
        `${decl.name} ${flag}`,
      );
      refused++;
    }
  }
  assert.ok(refused >= 30, `${refused} flags`);
  const serve = commandOf('serve');
  serve.parseOptions(['--host', '127.0.0.1', '--host', '::1']);
  assert.deepEqual(serve.opts().host, ['127.0.0.1', '::1']);
});

test('serve and playground refuse a repeated flag: exit 2, one line, nothing bound', async () => {
  for (const args of [
    ['serve', '--port', '0', '-p', '0'],
    ['playground', '--port', '0', '--port', '0'],
  ]) {
    const r = await runBin(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      new RegExp(
        `^daytime ${args[0]}: --port was given twice: it takes one value \\("0", then "0"\\); give it once\\n$`,
      ),
    );
  }
});
