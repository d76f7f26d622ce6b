import type koffiModule from 'koffi';
import { DaytimeError } from '../errors.ts';

export interface Libc {
  koffi: typeof koffiModule;
  lib: ReturnType<typeof koffiModule.load>;
}

let loaded: Promise<Libc> | undefined;

// libc through koffi, for the system calls Node does not offer (setsockopt, listen with any backlog);
// loaded once, and only when first needed: the drain's socket filter or the lab.
export function loadLibc(): Promise<Libc> {
  loaded ??= (async () => {
    if (process.platform !== 'linux') throw new DaytimeError('ERR_UNSUPPORTED', 'libc calls need Linux');
    const koffi = (await import('koffi')).default;
    return { koffi, lib: koffi.load('libc.so.6') };
  })();
  return loaded;
}
