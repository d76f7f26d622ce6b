import type net from 'node:net';
import type { TcpInfoReader } from '../kernel/tcp-info.ts';
import { failureOutcome, socketFd, tryConnect } from '../lab/clients.ts';
import type { ClientState, ClientView } from './state.ts';

// One client of a run: a plain TCP connect to the listener, as any daytime client makes it, that waits
// for the server to speak and gives up at its own timeout. Its state is what its socket says, and what
// the engine finds on the server's side for it.
export class PlaygroundClient {
  readonly view: ClientView;
  // The handshake completed on the client's side (its 'connect' fired).
  established = false;
  // Taken by the server's accept4().
  accepted = false;
  #socket: net.Socket | undefined;
  #fd: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #since: () => number;
  readonly #changed: (client: PlaygroundClient) => void;

  constructor(id: number, since: () => number, changed: (client: PlaygroundClient) => void) {
    this.#since = since;
    this.#changed = changed;
    this.view = {
      id,
      state: 'waiting',
      retransmits: 0,
      done: false,
      port: null,
      startedS: null,
      connectedS: null,
      servedS: null,
      steps: [{ state: 'waiting', atS: since(), retransmits: 0 }],
    };
  }

  // The lab's own client connect; after the handshake it waits, as a daytime client does, for the
  // server's line and FIN, until its own timeout.
  start(port: number, timeoutMs: number, read: TcpInfoReader): void {
    const deadline = performance.now() + timeoutMs;
    this.view.startedS = this.#since();
    this.set('connecting');
    const giveUp = () => this.finish(this.view.state === 'lost' ? 'lost' : 'timed-out');
    const watch = (socket: net.Socket) => {
      this.#socket = socket;
      socket.on('data', () => {});
      socket.on('end', () => {
        this.view.servedS = this.#since();
        this.finish('served');
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        const outcome = failureOutcome(error);
        this.finish(outcome === 'refused' || outcome === 'reset' ? outcome : 'error');
      });
    };
    tryConnect({ port }, timeoutMs, watch).then(({ outcome, socket }) => {
      if (outcome === 'pending') return giveUp();
      if (outcome !== 'connected' || this.view.done) return;
      this.established = true;
      this.view.connectedS = this.#since();
      this.view.port = socket.localPort ?? this.view.port;
      // A retransmission between two ticks still counts: the socket's own total says how many.
      this.#readRetransmits(read, true);
      this.#changed(this);
      this.#timer = setTimeout(giveUp, Math.max(0, deadline - performance.now()));
    });
  }

  // Its local port, from the socket itself (set once connect() has been issued).
  localPort(): number | undefined {
    this.view.port ??= this.#socket?.localPort ?? null;
    return this.view.port ?? undefined;
  }

  // The kernel's word on a client still connecting: SYN_SENT and how often its SYN went again.
  poll(read: TcpInfoReader): void {
    if (this.view.done || this.established || !this.#socket) return;
    this.localPort();
    this.#readRetransmits(read, false);
  }

  #readRetransmits(read: TcpInfoReader, connected: boolean): void {
    this.#fd ??= this.#socket ? socketFd(this.#socket) : undefined;
    const info = this.#fd === undefined ? undefined : read(this.#fd);
    if (!info) return;
    // While SYN_SENT, tcpi_retransmits is the SYN's count; once established, the total holds it. A
    // retransmission the tick did not see (the SYN that got in went a moment before) is marked now.
    const count = connected ? info.totalRetrans : info.state === 'SYN_SENT' ? info.retransmits : 0;
    if (count > this.view.retransmits) {
      this.view.retransmits = count;
      this.#step('connecting');
    }
  }

  set(state: ClientState): void {
    if (this.view.done || this.view.state === state) return;
    this.view.state = state;
    this.#step(state);
  }

  #step(state: ClientState): void {
    this.view.steps.push({ state, atS: this.#since(), retransmits: this.view.retransmits });
    this.#changed(this);
  }

  finish(state: ClientState): void {
    if (this.view.done) return;
    clearTimeout(this.#timer);
    this.#socket?.destroy();
    this.view.state = state;
    this.view.done = true;
    this.#step(state);
  }
}
