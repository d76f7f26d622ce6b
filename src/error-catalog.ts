// Every `code` the library, the CLI and the playground's API produce, declared once: what it means, how
// the CLI ends when it ends a command, the HTTP status when the API answers with it, and what to do.
// As undici (lib/core/errors.js) and fastify (lib/errors.js, with its statusCode) keep theirs: one table a
// script can read, from which DaytimeError's type, the CLI's exit status, the API's status and
// docs/errors.md (scripts/errors-page.ts) all come. A code missing here does not typecheck at the
// `new DaytimeError(...)` that throws it, and test/errors/catalog.test.ts finds the rest.
//
// Codes that Node or the kernel produce and the library only passes on (ECONNREFUSED from connect(),
// EADDRINUSE from bind()...) are theirs, not ours, and are not listed: they arrive through
// fromSystemError (errors.ts) with the original error as `cause`. The few codes in their style that the
// library makes itself (its own deadline's ETIMEDOUT, ABORT_ERR as Node's AbortError has it, the bench's
// ECONNREFUSED when no connection at all was accepted) are listed, because a script can learn their
// meaning here only.

import { constants } from 'node:os';

// How a command ends, by name: the numbers are in EXIT_STATUS.
export type Outcome = 'failure' | 'usage' | 'interrupted';

export const EXIT_STATUS: Readonly<Record<Outcome, number>> = {
  // Something went wrong at run time, after the input was checked.
  failure: 1,
  // Bad input, found before any socket opens: the command did nothing.
  usage: 2,
  // Cut short by Ctrl-C: 128 + SIGINT, as shells report it.
  interrupted: 128 + constants.signals.SIGINT,
};

export interface ErrorInfo {
  // How a CLI command ends with this code; absent when only the playground's API answers with it.
  readonly exit?: Outcome;
  // The status the playground's API answers with, for the codes it sends.
  readonly http?: number;
  // Thrown by the benchmark harness (bench/, not in the package) only.
  readonly harness?: true;
  readonly meaning: string;
  readonly action: string;
}

export const ERROR_CATALOG = {
  // Bad input: the library's options and the CLI's flags.
  ERR_INVALID_OPTION: {
    exit: 'usage',
    http: 400,
    meaning:
      'An option is out of range or malformed, two options cannot go together, one needs another, or a flag was given twice. The message names the option (as a --flag on the command line).',
    action: 'Correct the option the message names; `daytime <command> --help` lists the ranges.',
  },
  ERR_FLEET_UNAVAILABLE: {
    exit: 'usage',
    meaning: 'The fleet cannot be built here: it needs Linux, root, ip netns, haproxy and setpriv.',
    action:
      'Run it as root on Linux with iproute2, haproxy and util-linux installed (the message names what is missing).',
  },
  // What this machine or this process cannot do.
  ERR_UNSUPPORTED: {
    exit: 'failure',
    meaning:
      'A feature that calls libc through koffi (--workers, the playground, the bench libc connect path...) runs on Linux only, and this is not Linux or koffi cannot load libc.',
    action: 'Run on Linux, or leave out the option that needs it; the message names the feature.',
  },
  ERR_ACCEPT_PATH_UNAVAILABLE: {
    exit: 'failure',
    meaning:
      'The accept path (--accept) or UDP path (--udp-io) asked for by name cannot run here; the message says why (io_uring disabled or refused, RLIMIT_MEMLOCK, no libc).',
    action:
      'Use --accept auto or --udp-io auto to take the best path that runs, or fix what the message names.',
  },
  ERR_CONNECT_PATH_UNAVAILABLE: {
    exit: 'failure',
    meaning: 'The bench connect path (--connect) asked for by name cannot run here; the message says why.',
    action: 'Use --connect auto, or fix what the message names.',
  },
  ERR_SOCKET_ACTIVATION: {
    exit: 'failure',
    meaning: 'systemd passed listening sockets to a process (npm) that does not hand them on to the server.',
    action: 'Start the bin itself under systemd-socket-activate or a .socket unit, not through npm or npx.',
  },
  // The server's process pool.
  ERR_WORKER_FAILED: {
    exit: 'failure',
    meaning: 'A --workers worker exited or failed before it was ready, so `serve` did not start.',
    action: "Read the worker's reason in the message and in the log lines before it; try without --workers.",
  },
  ERR_ABORTED: {
    exit: 'failure',
    meaning: 'serve was stopped (SIGINT or SIGTERM) while its workers were still starting.',
    action: 'Nothing, if the stop was meant; otherwise look for what sent the signal.',
  },
  ERR_PRIVILEGES: {
    exit: 'failure',
    meaning:
      'serve --user could not become the user and group it names: the process is not root, or the switch did not hold (or could be undone: root regained). Said before any socket is bound where it can be known then.',
    action:
      'Start serve as root with --user; or leave --user out and start it as that user, with socket activation or CAP_NET_BIND_SERVICE for ports below 1024.',
  },
  // The client (`get`, queryDaytime, queryTime) and the bench.
  ERR_EMPTY_REPLY: {
    exit: 'failure',
    meaning: 'The server closed the connection without sending anything.',
    action:
      'Check that a daytime server listens there; one that refuses work (--max-connections) may close at once.',
  },
  ERR_NO_CRLF: {
    exit: 'failure',
    meaning:
      'The reply does not end in CRLF: cut short, or 4 bytes from an RFC 868 time server (the message says so).',
    action: 'For a time server use --time (queryTime); otherwise the server is not speaking RFC 867.',
  },
  ERR_BAD_REPLY: {
    exit: 'failure',
    meaning: 'A daytime reply of more than one line, or a time reply that is not exactly 4 bytes.',
    action: 'Check the port: a daytime server answers a line, a time server (--time) 4 bytes.',
  },
  ERR_REPLY_TOO_LONG: {
    exit: 'failure',
    meaning: 'The reply exceeded the most a reply may be (512 bytes for daytime, 4 for time).',
    action: 'Check the port: the server there is not a daytime server (or, with --time, not a time server).',
  },
  ETIMEDOUT: {
    exit: 'failure',
    meaning:
      "No complete reply within the client's --timeout (the library's own deadline; the kernel's connect timeout has the same code).",
    action:
      'Check that the server is up and reachable (a UDP datagram may be lost); raise --timeout for a slow path.',
  },
  ABORT_ERR: {
    exit: 'interrupted',
    meaning: "The caller's AbortSignal stopped a query or the fleet (Ctrl-C on the command line).",
    action: 'Nothing: it was asked for.',
  },
  ECONNREFUSED: {
    exit: 'failure',
    meaning:
      "bench: no connection was accepted and at least one was refused, so no figures were printed (also the kernel's own code when `get` finds nothing listening).",
    action: 'Start a server at the target, or correct the target.',
  },
  ERR_CANNOT_CONNECT: {
    exit: 'failure',
    meaning: 'bench: no connection was accepted and none was refused (timeouts, resets, unreachable).',
    action: 'Check the target is reachable and a server listens there; try `daytime get` against it first.',
  },
  ERR_UNKNOWN: {
    exit: 'failure',
    meaning: 'A system call failed without saying why (no code from Node or the kernel).',
    action: 'Read the message (it says what was being done); report it if it repeats.',
  },
  // The fleet.
  ERR_FLEET: {
    exit: 'failure',
    meaning:
      'A part of the fleet did not start or did not answer in time (haproxy, a daytime host, the load generator).',
    action: "Read the message (it carries the part's own stderr) and the progress lines before it.",
  },
  // The playground's HTTP API: JSON bodies {"error": {"code", "message"}} with these statuses.
  ERR_HOST: {
    http: 403,
    meaning: "The request's Host is not the playground's own address (a DNS-rebinding page).",
    action: 'Open the address `daytime playground` printed.',
  },
  ERR_ORIGIN: {
    http: 403,
    meaning: 'The request came from a page on another origin.',
    action: "Use the playground's own page.",
  },
  ERR_TOKEN: {
    http: 401,
    meaning: 'The request has no token or a wrong one.',
    action: 'Use the address `daytime playground` printed (…/?token=…), or send Authorization: Bearer TOKEN.',
  },
  ERR_CONTENT_TYPE: {
    http: 415,
    meaning: 'A request body that is not sent as application/json.',
    action: 'Send the parameters as JSON with Content-Type: application/json.',
  },
  ERR_TOO_LARGE: {
    http: 413,
    meaning: 'A request body over 16 KiB.',
    action: 'Send only the parameters.',
  },
  ERR_BAD_JSON: {
    http: 400,
    meaning: 'A request body that is not valid JSON.',
    action: 'Send a JSON object of parameters.',
  },
  ERR_RUN_GOING: {
    http: 409,
    meaning: 'A run was asked for while one is going on: one at a time.',
    action: 'Stop it with DELETE /api/run, or wait for it to end.',
  },
  ERR_NO_RUN: {
    http: 409,
    meaning: 'A change to the run was asked for while none is going on.',
    action: 'Start one with POST /api/run first.',
  },
  ERR_METHOD: {
    http: 405,
    meaning: 'The method is not allowed on that path.',
    action: 'See the table of the API in docs/playground.md for the methods each path takes.',
  },
  ERR_NOT_FOUND: {
    http: 404,
    meaning: 'No API and no file at that path.',
    action: 'Check the path.',
  },
  ERR_INTERNAL: {
    http: 500,
    meaning: 'The playground failed with an error that has no code: a defect.',
    action: 'Report it with the message and what was asked.',
  },
  // The benchmark harness.
  ERR_CPU_CLOCK_FORMAT: {
    harness: true,
    meaning:
      "A /proc or cgroup CPU counter was not in the format the harness reads (a kernel it doesn't know).",
    action: 'Report the kernel version and the text in the message.',
  },
} as const satisfies Record<string, ErrorInfo>;

export type ErrorCode = keyof typeof ERROR_CATALOG;
// The codes the playground's API answers with.
export type HttpErrorCode = {
  [C in ErrorCode]: (typeof ERROR_CATALOG)[C] extends { http: number } ? C : never;
}[ErrorCode];

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOG, code);
}

const infoOf = (code: string): ErrorInfo | undefined =>
  isErrorCode(code) ? (ERROR_CATALOG[code] as ErrorInfo) : undefined;

// The CLI's exit status for an error with this code; a code passed on from Node or the kernel (not in
// the catalog) is a run-time failure.
export const exitStatusOf = (code: string): number => EXIT_STATUS[infoOf(code)?.exit ?? 'failure'];

// The API's status for an error with this code; anything not meant for the API is the server's fault.
export const httpStatusOf = (code: string): number => infoOf(code)?.http ?? 500;
