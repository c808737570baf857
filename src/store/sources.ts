// Places a missing artifact can come from before anything is rebuilt: the outputs Nx restored, a remote.
// The store tries them in order and verifies whatever they hand over against its own artifact.json.

/**
 * One place to fetch artifacts from. `fetch` copies the artifact's files, artifact.json included, into
 * `into` (an empty folder on the store's filesystem) and returns true, or returns false when it has no
 * such artifact. It need not verify anything: the store checks every file against artifact.json and
 * refuses (and reports) a copy that does not match, then tries the next source.
 */
export interface ArtifactSource {
  /** Shown in messages: `Nx outputs`, `s3://bucket/prefix`. */
  readonly name: string;
  /** The kinds it can hold; when given, other kinds are not asked for (a miss costs nothing). */
  readonly kinds?: readonly string[];
  fetch(kind: string, key: string, into: string): Promise<boolean>;
}
