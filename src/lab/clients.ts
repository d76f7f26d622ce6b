import net from 'node:net';

export type ConnectOutcome = 'connected' | 'pending' | 'refused' | 'reset' | 'eagain' | 'error';

// One client connect that waits at most waitMs for the handshake: 'pending' means neither connected
// nor refused by then, which is what a SYN dropped on a full queue looks like. The socket is returned
// open so the caller decides when to close it; `onSocket` has it at once, to watch it while it connects.
export function tryConnect(
  target: { port: number } | { path: string },
  waitMs: number,
  onSocket?: (socket: net.Socket) => void,
): Promise<{ outcome: ConnectOutcome; socket: net.Socket; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = 'path' in target ? net.connect(target.path) : net.connect(target.port, '127.0.0.1');
    onSocket?.(socket);
    const timer = setTimeout(() => finish('pending'), waitMs);
    const finish = (outcome: ConnectOutcome) => {
      clearTimeout(timer);
      socket.removeAllListeners('connect');
      resolve({ outcome, socket, ms: performance.now() - started });
    };
    socket.once('connect', () => finish('connected'));
    // A socket destroyed before either must not hold the process for the rest of waitMs.
    socket.once('close', () => clearTimeout(timer));
    socket.on('error', (error: NodeJS.ErrnoException) => finish(failureOutcome(error)));
  });
}

// What a client's socket error says about the server's side: refused (RST to the SYN), reset (RST on
// an established connection), EAGAIN (a full AF_UNIX queue), or something else.
export function failureOutcome(error: NodeJS.ErrnoException): ConnectOutcome {
  return error.code === 'ECONNREFUSED'
    ? 'refused'
    : error.code === 'ECONNRESET'
      ? 'reset'
      : error.code === 'EAGAIN'
        ? 'eagain'
        : 'error';
}

// The client socket's descriptor, for getsockopt(TCP_INFO) on it (Linux; Node keeps it on its handle).
export function socketFd(socket: net.Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}
