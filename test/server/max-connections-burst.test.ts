import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createDaytimeServer } from '../../src/index.ts';
import { TESTED_ACCEPT_PATHS } from '../helpers/accept.ts';
import { CTIME_LINE, listenPort, rawQuery } from '../helpers/raw-client.ts';

// --max-connections bounds the connections a server holds open (a reply that cannot be written at once
// keeps its connection); a reply written and closed at once holds nothing. On the io_uring path the
// kernel accepts a whole burst into the ring, and the replies and closes queued there are on their way
// out, as the libc path's synchronous write and close are: they must not refuse the rest of the burst.
for (const accept of TESTED_ACCEPT_PATHS.filter((path) => path === 'uring' || path === 'libc'))
  test(`--accept ${accept}: 200 clients at once that read their reply, --max-connections 1: every one served`, async () => {
    const server = createDaytimeServer({ host: '127.0.0.1', port: 0, accept, maxConnections: 1 });
    const port = await listenPort(server);
    try {
      const replies = await Promise.all(Array.from({ length: 200 }, () => rawQuery(port)));
      const lines = replies.filter((r) => CTIME_LINE.test(r.data.toString('latin1'))).length;
      assert.equal(lines, 200);
      assert.equal(server.stats().rejected, 0);
    } finally {
      await server.close(0);
    }
  });
