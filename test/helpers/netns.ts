// The harness's namespaces (bench/lib/netns.ts), for the tests that need one of their own.
export { makeNetns, netnsUnavailable } from '../../bench/lib/netns.ts';
