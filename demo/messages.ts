/**
 * What the page tells the visitor when something fails: a sentence about what they did, not
 * the browser's raw DOMException text ("Requested device not found" reads like a GPU failure).
 */

/** Where the failure happened, for the message. */
export type FailureSource = { kind: 'webcam' } | { kind: 'file'; name: string } | { kind: 'page' };

const domName = (error: unknown): string | undefined =>
  error instanceof DOMException || (error instanceof Error && error.name !== 'Error') ? error.name : undefined;

export function describeFailure(error: unknown, source: FailureSource): string {
  const raw = error instanceof Error ? error.message : String(error);
  const name = domName(error);
  if (source.kind === 'webcam') {
    if (name === 'NotFoundError' || name === 'OverconstrainedError')
      return 'No webcam found: this browser reports no camera it can use. Pick a sample image or a file instead.';
    if (name === 'NotAllowedError' || name === 'SecurityError')
      return 'The webcam is not allowed: the browser (or you) refused camera access to this page.';
    if (name === 'NotReadableError' || name === 'AbortError')
      return 'The webcam could not be started: another program may be using it.';
    if (!navigator.mediaDevices?.getUserMedia) return 'This browser offers no webcam access here (it needs https or localhost).';
    return `The webcam could not be started (${raw}).`;
  }
  if (source.kind === 'file') {
    return `“${source.name}” could not be read as an image: the browser cannot decode it. Try a PNG, JPEG, WebP or GIF file.`;
  }
  return raw;
}
