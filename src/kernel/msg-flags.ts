// send(2)/recv(2) flags (Linux's values, the same on every architecture), for the paths that call libc
// or the ring directly.
export const MSG_DONTWAIT = 0x40;
export const MSG_WAITALL = 0x100;
export const MSG_NOSIGNAL = 0x4000;

// How a reply is sent from the ring: a send that cannot complete at once fails instead of waiting in the
// kernel, where no write timeout could reach it. With MSG_DONTWAIT it fails with EAGAIN, and with
// MSG_WAITALL a short send is a failure too (its completion carries the bytes sent, and a linked close
// is cancelled) rather than a success that would close the connection on half a reply; MSG_NOSIGNAL: a
// peer gone is EPIPE, not SIGPIPE. A fresh connection's empty send buffer always takes a daytime line
// whole, so the failure is the exception.
export const REPLY_SEND_FLAGS = MSG_NOSIGNAL | MSG_DONTWAIT | MSG_WAITALL;
