// A sampler's learned state as the state itself encodes it (src/core/sampler-state.ts): scalars
// and small structures as JSON, arrays as named byte parts. Storage keeps it as it is, so a new
// field of the state changes that one file, not the storage adapters.
export interface Snapshot {
  /** The log position the state includes reports up to. */
  readonly seq: number;
  readonly meta: string;
  readonly parts: ReadonlyMap<string, Uint8Array>;
}
