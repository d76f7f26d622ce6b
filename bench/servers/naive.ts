// The naive Node server the comparison needs: no caching, no care, what a tutorial would write.
import net from 'node:net';

const port = Number(process.argv[2]);
net
  .createServer((socket) => {
    socket.on('error', () => {});
    socket.end(`${new Date().toString().slice(0, 24)}\r\n`);
  })
  .listen(port, '127.0.0.1', 511);
