import { RawSocket, SOCK_DGRAM, SyscallError } from '../raw-socket.ts';
import type { Experiment } from '../types.ts';

// UDP is connectionless: there is nothing to queue before accept(), so there is no listen().
export const udpNoListen: Experiment = {
  id: 'udp-no-listen',
  title: 'listen() on a UDP socket',
  questions: ['Q4'],
  expected: 'listen() fails with EOPNOTSUPP',
  async run() {
    const socket = await RawSocket.inet(SOCK_DGRAM);
    let code = 'none';
    try {
      await socket.listen(5);
    } catch (error) {
      if (!(error instanceof SyscallError)) throw error;
      code = error.code;
    } finally {
      socket.close();
    }
    return {
      parameters: { backlog: 5 },
      measurements: { listenError: code },
      status: code === 'EOPNOTSUPP' ? 'ok' : 'differs',
      verdict:
        code === 'none'
          ? 'listen() on a UDP socket succeeded here.'
          : `listen() on a UDP socket failed with ${code}: UDP has no backlog; its only queue is the receive buffer.`,
    };
  },
};
