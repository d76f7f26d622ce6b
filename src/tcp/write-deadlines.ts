// Connections whose reply is still being written, each with the moment --write-timeout closes it.
// One interval sweeps them all (and only while there are any), rather than a timer per connection.
export class WriteDeadlines {
  readonly #timeoutMs: number;
  readonly #onTimeout: () => void;
  readonly #pending = new Map<() => void, number>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, onTimeout: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#onTimeout = onTimeout;
  }

  // `close` ends the connection; the returned function releases it once its write has completed.
  add(close: () => void): () => void {
    this.#pending.set(close, Date.now() + this.#timeoutMs);
    this.#sweeper ??= setInterval(() => this.#sweep(), Math.min(1000, this.#timeoutMs));
    this.#sweeper.unref();
    return () => this.#pending.delete(close);
  }

  // Closes every connection still writing (the drain's deadline).
  closeAll(): void {
    for (const close of this.#pending.keys()) close();
    this.#pending.clear();
  }

  #sweep(): void {
    const now = Date.now();
    for (const [close, deadline] of this.#pending) {
      if (now < deadline) continue;
      this.#pending.delete(close);
      this.#onTimeout();
      close();
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}
