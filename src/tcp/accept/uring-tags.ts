// The kinds of request the accept paths queue on a ring, in the low byte of each request's tag (its
// user_data, which the completion carries back); the bits above are the path's own (a slot, a reply
// copy, the accepts' generation). One table, so no two paths' kinds can collide.
export const TAG = {
  // An accept: uring-accept reaps each; in a chain only a failed one posts (the rest is cancelled).
  accept: 1,
  // A reply's send: only a failed or short one posts, and its linked close does not run.
  send: 2,
  // A reply's close: the connection was served (uring-accept: the descriptor; chains: the slot).
  close: 3,
  // uring-accept: the close of a connection refused under --max-connections.
  reject: 4,
  // A cancel of the accepts waiting on the listener.
  cancel: 5,
  // Chains: a slot closed after its chain did not finish; it can be armed again.
  free: 6,
  // Chains: the descriptor of a socket moved out of its slot, whose reply (or header) must wait.
  install: 7,
  // Chains: a plain accept while --max-connections are open: the connection is refused unanswered.
  refuse: 8,
  // PROXY chains: the header read after the accept (the one completion of a connection).
  recv: 9,
} as const;

export const kindOf = (tag: number) => tag & 0xff;
// A slot (or reply copy) in bits 8-23.
export const slotOf = (tag: number) => (tag >>> 8) & 0xffff;
export const tagged = (kind: number, slot: number) => kind | (slot << 8);
