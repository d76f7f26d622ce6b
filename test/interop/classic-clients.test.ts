import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createDaytimeServer } from '../../src/index.ts';
import { CTIME_LINE, listenPort } from '../helpers/raw-client.ts';

const run = promisify(execFile);
const has = (command: string, ...args: string[]) =>
  spawnSync(command, args, { stdio: 'ignore' }).status === 0;
// OpenBSD netcat prints its usage with -h and exits 0; traditional netcat lacks -N.
const hasOpenbsdNc = has('sh', '-c', 'nc -h 2>&1 | grep -q -- "-N"');
const hasPython = has('python3', '--version');

// The classic client from the socket-programming example: connect, recv until EOF, print.
const PYTHON_CLIENT = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("127.0.0.1", int(sys.argv[1])))
data = b""
while True:
    chunk = s.recv(1024)
    if not chunk:
        break
    data += chunk
s.close()
sys.stdout.write(repr(data.decode("ascii")))
`;

import { missingPeer } from '../helpers/peers.ts';

describe('classic clients accept the line', () => {
  const server = createDaytimeServer({ host: '127.0.0.1', port: 0 });
  let port: number;
  before(async () => {
    port = await listenPort(server);
  });
  after(() => server.close());

  test('nc (netcat-openbsd) receives one CRLF line and sees EOF', async (t) => {
    if (!hasOpenbsdNc)
      return missingPeer(t, 'netcat-openbsd is not installed (apt-get install netcat-openbsd)');
    // -d: no stdin; nc exits on the server's EOF, so a missing EOF would hit the test timeout.
    const { stdout } = await run('nc', ['-d', '127.0.0.1', String(port)], {
      encoding: 'latin1',
      timeout: 30_000,
    });
    assert.match(stdout, CTIME_LINE);
  });

  test('the classic Python client receives one CRLF line, then EOF', async (t) => {
    if (!hasPython) return missingPeer(t, 'python3 is not installed (apt-get install python3)');
    const { stdout } = await run('python3', ['-c', PYTHON_CLIENT, String(port)], { timeout: 30_000 });
    // repr() shows the CRLF as \\r\\n.
    assert.match(stdout, /^'\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\\r\\n'$/);
  });
});
