import type { EncodedImage } from './images/encoder.js';

/** One piece of a judge message: text, or an image prepared by the encoder. */
export type Block = { type: 'text'; text: string } | { type: 'image'; image: EncodedImage };
