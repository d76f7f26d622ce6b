// Node's internal bindings through process.binding: deprecated (DEP0111) and still allow-listed in
// Node 24 for the few the fast paths use (tcp_wrap, stream_wrap, uv). Callers feature-detect what
// they need from the returned object and fall back to public APIs where it is not as expected.
export type NodeBinding = Record<string, unknown>;

export function nodeBinding(name: string): NodeBinding | undefined {
  try {
    return (process as unknown as { binding(name: string): NodeBinding }).binding(name);
  } catch {
    return undefined;
  }
}
