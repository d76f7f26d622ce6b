import { DaytimeError } from '../errors.ts';
import { loadDatagramCalls } from '../kernel/mmsg-calls.ts';
import { dgramPath } from './dgram-path.ts';
import { mmsgPath } from './mmsg-path.ts';
import type { UdpChoice, UdpPath } from './types.ts';

// The one place a UDP socket's path is chosen: mmsg (recvmmsg and sendmmsg through koffi: Linux), then
// dgram (always). A path asked for by name is that path or an error.
export async function udpPaths(choice: UdpChoice): Promise<UdpPath[]> {
  if (choice === 'dgram') return [dgramPath];
  const mmsg = await loadDatagramCalls().then(mmsgPath, (error: unknown) => {
    if (choice === 'mmsg')
      throw new DaytimeError(
        'ERR_ACCEPT_PATH_UNAVAILABLE',
        `the mmsg UDP path cannot run here: ${error instanceof Error ? error.message : String(error)}`,
      );
    return undefined;
  });
  return choice === 'mmsg' ? (mmsg ? [mmsg] : []) : [...(mmsg ? [mmsg] : []), dgramPath];
}
