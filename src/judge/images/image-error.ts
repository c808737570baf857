import { ArrError } from '../../util/errors.js';

/** An image that cannot be read, fetched or decoded. The message names the file or URL and the reason. */
export class ImageError extends ArrError {
  override name = 'ImageError';
  constructor(
    /** The file path, the URL, or a short description of a data URL. */
    readonly source: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${reason}`, options);
  }
}
