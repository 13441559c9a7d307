/** Errors of artifact folders, in a module without tfjs so discovery and the registry stay light. */
export class ArtifactExistsError extends Error {
  constructor(readonly dir: string) {
    super(`artifact ${dir} already exists; versions are immutable (train a new version or remove it)`);
    this.name = 'ArtifactExistsError';
  }
}
export class ArtifactCorruptError extends Error {
  constructor(
    readonly dir: string,
    readonly file: string,
    detail: string,
    /**
     * True when the bytes on disk are not the bytes that were published (a checksum, size, missing
     * or unlisted file): the folder is damaged and is moved aside. False for files that match their
     * manifest but cannot be read as a model (written by another version): set aside, not moved.
     */
    readonly integrity = false,
  ) {
    super(`artifact ${dir}: ${file} ${detail}`);
    this.name = 'ArtifactCorruptError';
  }
}
