// Preloaded (`node --import`, or NODE_OPTIONS=--import=...) into a process that must find io_uring
// refused, as a container runtime's default seccomp profile refuses it: a seccomp filter on every thread
// of this process and its children answers io_uring_setup with EPERM (or ENOSYS with
// DAYTIME_TEST_SECCOMP_ERRNO=38). A real kernel condition, per process; the machine's
// kernel.io_uring_disabled stays as it is.
import { constants } from 'node:os';
import koffi from 'koffi';

const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_FILTER_FLAG_TSYNC = 1;
const SYS_SECCOMP: Record<string, number> = { x64: 317, arm64: 277 };
const SYS_IO_URING_SETUP = 425;
const AUDIT_ARCH: Record<string, number> = { x64: 0xc000003e, arm64: 0xc00000b7 };
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO = 0x00050000;
// Classic BPF: BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K.
const LD = 0x20;
const JEQ = 0x15;
const RET = 0x06;

const errno = Number(process.env.DAYTIME_TEST_SECCOMP_ERRNO ?? constants.errno.EPERM);
const nr = SYS_SECCOMP[process.arch];
const arch = AUDIT_ARCH[process.arch];
if (nr === undefined || arch === undefined) throw new Error(`no seccomp numbers for ${process.arch}`);
// struct seccomp_data { int nr; u32 arch; ... }: refuse io_uring_setup of this architecture only.
const program: [number, number, number, number][] = [
  [LD, 0, 0, 4],
  [JEQ, 0, 3, arch],
  [LD, 0, 0, 0],
  [JEQ, 0, 1, SYS_IO_URING_SETUP],
  [RET, 0, 0, SECCOMP_RET_ERRNO | errno],
  [RET, 0, 0, SECCOMP_RET_ALLOW],
];
const libc = koffi.load('libc.so.6');
const prctl = libc.func(
  'int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)',
);
const seccomp = libc.func('syscall', 'long', ['long', 'uint32_t', 'uint32_t', 'intptr_t']);
const filter = Buffer.alloc(program.length * 8);
program.forEach(([code, jt, jf, k], i) => {
  filter.writeUInt16LE(code, i * 8);
  filter.writeUInt8(jt, i * 8 + 2);
  filter.writeUInt8(jf, i * 8 + 3);
  filter.writeUInt32LE(k, i * 8 + 4);
});
// struct sock_fprog { unsigned short len; struct sock_filter *filter; }
const fprog = Buffer.alloc(16);
fprog.writeUInt16LE(program.length, 0);
fprog.writeBigUInt64LE(koffi.address(filter), 8);
if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) !== 0) throw new Error(`prctl: errno ${koffi.errno()}`);
if (seccomp(nr, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, Number(koffi.address(fprog))) !== 0) {
  throw new Error(`seccomp: errno ${koffi.errno()}`);
}
