// mirrors schemas/dataset-record.schema.json
// Hand-written until scripts/gen.ts emits src/types/dataset.ts; the names and shapes match what
// json-schema-to-typescript generates from the schema (root DatasetRecord, $defs ImageList, ImageRef,
// Label, DatasetItem), so the swap is an import change. test/data/schema.test.ts holds the two together.

/** One image (a string) or a list of them; null and null entries count as absent. */
export type ImageList = string | null | (string | null)[];

/** One raw record of a seed or test dataset, as the reference accepts it. Unknown keys are metadata. */
export interface DatasetRecord {
  query?: string | null;
  prompt?: string | null;
  instruction?: string | null;
  image_paths?: ImageList;
  response?: ImageList;
  responses?: ImageList;
  images?: ImageList;
  image?: ImageList;
  generated_image?: ImageList;
  generated_images?: ImageList;
  source_image?: ImageList;
  base_image?: ImageList;
  original_image?: ImageList;
  input_image?: ImageList;
  reference_image?: ImageList;
  ref_image?: ImageList;
  edited_image?: ImageList;
  edited_images?: ImageList;
  target_image?: ImageList;
  target_images?: ImageList;
  output_image?: ImageList;
  output_images?: ImageList;
  result_image?: ImageList;
  result_images?: ImageList;
  label_rank?: number[] | null;
  label_score?: number | null;
  task_type?: string | null;
  response_includes_base?: boolean | null;
  [k: string]: unknown;
}

/** A local image file: an absolute path (resolved against the dataset's folder, not realpath'd). */
export interface FileImageRef {
  kind: 'file';
  path: string;
}
/** An http(s) URL: passed to the judge unchanged, never fetched by the loader. */
export interface UrlImageRef {
  kind: 'url';
  url: string;
}
/** An inline data: URL, kept as the string, with the media type it declares. */
export interface DataImageRef {
  kind: 'data';
  url: string;
  mime: string;
}
export type ImageRef = FileImageRef | UrlImageRef | DataImageRef;

/** Ranks aligned with the candidates; 1 is best; a permutation of 1..N. */
export interface RankLabel {
  rank: number[];
}
/** An integer score for a single candidate (pointwise). */
export interface ScoreLabel {
  score: number;
}
export type Label = RankLabel | ScoreLabel;

/** One record after normalization. */
export interface DatasetItem {
  /** 0-based index of the record (for .jsonl, counting non-blank lines). */
  index: number;
  /** 1-based line where the record starts in the dataset file, when known. */
  line?: number;
  /** The caption (t2i) or editing instruction (edit). */
  query: string;
  /** Edit only: the base image. */
  source?: ImageRef;
  /** Candidate images in record order (Image 1..N); never the base; never empty. */
  candidates: ImageRef[];
  label?: Label;
  /** The record's own `task_type` (edit operation tags), unrelated to the experiment task. */
  taskType?: string;
  /** Every key of the record the format does not define, as written. */
  meta: { [k: string]: unknown };
}
