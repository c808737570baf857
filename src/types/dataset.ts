/* Generated from schemas/dataset-record.schema.json by scripts/gen.ts (npm run gen). Do not edit by hand. */

/**
 * The text prompt (t2i) or editing instruction (edit). The first non-empty of `query`, `prompt`, `instruction` is used; null counts as absent.
 */
export type Query = string | null;
/**
 * Alias of `query`, used when `query` is absent or empty.
 */
export type Prompt = string | null;
/**
 * Alias of `query`, used when `query` and `prompt` are absent or empty (the usual key for edit instructions).
 */
export type Instruction = string | null;
/**
 * t2i candidates (checked first). For edit, a fallback for the edited images, checked after `response`, `responses`, `images`. t2i uses the first non-empty key among `image_paths`, `response`, `responses`, `images`, `image`, `generated_image`, `generated_images`. A string is one image; null entries are dropped. Paths are absolute or relative to the dataset file; http(s) and data: URLs pass through.
 */
export type ImagePaths = string | null | (string | null)[];
/**
 * Candidate images. t2i: checked after `image_paths`. Edit: the first fallback for the edited images when no explicit edited-image key is set; without a source key, it may start with the base image (see `response_includes_base`). t2i uses the first non-empty key among `image_paths`, `response`, `responses`, `images`, `image`, `generated_image`, `generated_images`. A string is one image; null entries are dropped. Paths are absolute or relative to the dataset file; http(s) and data: URLs pass through.
 */
export type Response = string | null | (string | null)[];
/**
 * Alias of `response`. t2i uses the first non-empty key among `image_paths`, `response`, `responses`, `images`, `image`, `generated_image`, `generated_images`. A string is one image; null entries are dropped. Paths are absolute or relative to the dataset file; http(s) and data: URLs pass through.
 */
export type Responses = string | null | (string | null)[];
/**
 * Alias of `response` (t2i and edit fallback). t2i uses the first non-empty key among `image_paths`, `response`, `responses`, `images`, `image`, `generated_image`, `generated_images`. A string is one image; null entries are dropped. Paths are absolute or relative to the dataset file; http(s) and data: URLs pass through.
 */
export type Images = string | null | (string | null)[];
/**
 * Alias of `response` (t2i and the last edit fallback). t2i uses the first non-empty key among `image_paths`, `response`, `responses`, `images`, `image`, `generated_image`, `generated_images`. A string is one image; null entries are dropped. Paths are absolute or relative to the dataset file; http(s) and data: URLs pass through.
 */
export type Image = string | null | (string | null)[];
/**
 * t2i only: candidate images. Ignored for edit records. t2i uses the first non-empty key among `image_paths`, `response`, `responses`, `images`, `image`, `generated_image`, `generated_images`. A string is one image; null entries are dropped. Paths are absolute or relative to the dataset file; http(s) and data: URLs pass through.
 */
export type GeneratedImage = string | null | (string | null)[];
/**
 * t2i only: candidate images (checked last). Ignored for edit records. t2i uses the first non-empty key among `image_paths`, `response`, `responses`, `images`, `image`, `generated_image`, `generated_images`. A string is one image; null entries are dropped. Paths are absolute or relative to the dataset file; http(s) and data: URLs pass through.
 */
export type GeneratedImages = string | null | (string | null)[];
/**
 * Edit only: the source (base) image the edits start from. The first non-empty key among `source_image`, `base_image`, `original_image`, `input_image`, `reference_image`, `ref_image` is used; of a list, only the first image. Ignored for t2i records.
 */
export type SourceImage = string | null | (string | null)[];
/**
 * Edit only: the source (base) image the edits start from. The first non-empty key among `source_image`, `base_image`, `original_image`, `input_image`, `reference_image`, `ref_image` is used; of a list, only the first image. Ignored for t2i records.
 */
export type BaseImage = string | null | (string | null)[];
/**
 * Edit only: the source (base) image the edits start from. The first non-empty key among `source_image`, `base_image`, `original_image`, `input_image`, `reference_image`, `ref_image` is used; of a list, only the first image. Ignored for t2i records.
 */
export type OriginalImage = string | null | (string | null)[];
/**
 * Edit only: the source (base) image the edits start from. The first non-empty key among `source_image`, `base_image`, `original_image`, `input_image`, `reference_image`, `ref_image` is used; of a list, only the first image. Ignored for t2i records.
 */
export type InputImage = string | null | (string | null)[];
/**
 * Edit only: the source (base) image the edits start from. The first non-empty key among `source_image`, `base_image`, `original_image`, `input_image`, `reference_image`, `ref_image` is used; of a list, only the first image. Ignored for t2i records.
 */
export type ReferenceImage = string | null | (string | null)[];
/**
 * Edit only: the source (base) image the edits start from. The first non-empty key among `source_image`, `base_image`, `original_image`, `input_image`, `reference_image`, `ref_image` is used; of a list, only the first image. Ignored for t2i records.
 */
export type RefImage = string | null | (string | null)[];
/**
 * Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.
 */
export type EditedImage = string | null | (string | null)[];
/**
 * Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.
 */
export type EditedImages = string | null | (string | null)[];
/**
 * Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.
 */
export type TargetImage = string | null | (string | null)[];
/**
 * Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.
 */
export type TargetImages = string | null | (string | null)[];
/**
 * Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.
 */
export type OutputImage = string | null | (string | null)[];
/**
 * Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.
 */
export type OutputImages = string | null | (string | null)[];
/**
 * Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.
 */
export type ResultImage = string | null | (string | null)[];
/**
 * Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.
 */
export type ResultImages = string | null | (string | null)[];
/**
 * Pairwise/listwise label: one rank per candidate image, in candidate order (never the base image); 1 is best. Must be a permutation of 1..N where N is the number of candidates: `[2, 1]` prefers the second image. For edit records without a source key its length also decides whether `response` starts with the base image.
 */
export type LabelRank = number[] | null;
/**
 * Pointwise label: an integer score between the experiment's `rubric.min_score` and `rubric.max_score` (default 1..5). For edit records without a source key, its presence with exactly two `response` images means the first is the base.
 */
export type LabelScore = number | null;
/**
 * Free-form edit operation tags for this record (shown to the rubric generator as "Edit operation tags"). Unrelated to the experiment's `task`.
 */
export type TaskType = string | null;
/**
 * Edit only, when no source or edited-image key is set: true means the first `response` image is the base image (needs at least two images).
 */
export type ResponseIncludesBase = boolean | null;
/**
 * One image (a string) or a list of them; null and null entries count as absent. Each is a local path (absolute, `~/…`, or relative to the dataset file), an http(s) URL or a data: URL.
 *
 * This interface was referenced by `DatasetRecord`'s JSON-Schema
 * via the `definition` "ImageList".
 */
export type ImageList = string | null | (string | null)[];
/**
 * A normalized image reference.
 *
 * This interface was referenced by `DatasetRecord`'s JSON-Schema
 * via the `definition` "ImageRef".
 */
export type ImageRef = FileImageRef | UrlImageRef | DataImageRef;
/**
 * Discriminator: a local file.
 */
export type FileKind = "file";
/**
 * Absolute path, resolved against the dataset file's folder when the record gave a relative one (not realpath'd).
 */
export type FilePath = string;
/**
 * Discriminator: a remote URL.
 */
export type UrlKind = "url";
/**
 * The http:// or https:// URL as written.
 */
export type Url = string;
/**
 * Discriminator: an inline data URL.
 */
export type DataKind = "data";
/**
 * The whole data: URL as written.
 */
export type DataUrl = string;
/**
 * The media type declared by the data URL (`text/plain` when it declares none).
 */
export type DataMime = string;
/**
 * A rank label (pairwise/listwise) or a score label (pointwise).
 *
 * This interface was referenced by `DatasetRecord`'s JSON-Schema
 * via the `definition` "Label".
 */
export type Label = RankLabel | ScoreLabel;
/**
 * One rank per candidate, a permutation of 1..N.
 */
export type Rank = number[];
/**
 * The score, within [min_score, max_score].
 */
export type Score = number;
/**
 * 0-based index of the record in the dataset (for .jsonl, counting non-blank lines).
 */
export type ItemIndex = number;
/**
 * 1-based line where the record starts in the dataset file, when known.
 */
export type ItemLine = number;
/**
 * The caption (t2i) or editing instruction (edit): the first non-empty of query, prompt, instruction.
 */
export type ItemQuery = string;
/**
 * Edit only: the base image the candidates were edited from; absent for t2i and for edit records without one.
 */
export type ItemSource = FileImageRef | UrlImageRef | DataImageRef;
/**
 * The candidate images in record order (Image 1..N); never includes the base. Never empty.
 */
export type ItemCandidates = ImageRef[];
/**
 * The preference label, when the record has one.
 */
export type ItemLabel = RankLabel | ScoreLabel;
/**
 * The record's own `task_type` tags (edit operation tags), unrelated to the experiment task.
 */
export type ItemTaskType = string;

/**
 * One record of a seed or test dataset (.jsonl line, element of a .json array, or item of a YAML sequence), as the ARR reference accepts it: a query, candidate images (plus a base image for edit) under one of several alias keys, and a rank or score label. Keys not listed here are kept as metadata. `$defs/DatasetItem` is the normalized form the engine works with.
 */
export interface DatasetRecord {
  query?: Query;
  prompt?: Prompt;
  instruction?: Instruction;
  image_paths?: ImagePaths;
  response?: Response;
  responses?: Responses;
  images?: Images;
  image?: Image;
  generated_image?: GeneratedImage;
  generated_images?: GeneratedImages;
  source_image?: SourceImage;
  base_image?: BaseImage;
  original_image?: OriginalImage;
  input_image?: InputImage;
  reference_image?: ReferenceImage;
  ref_image?: RefImage;
  edited_image?: EditedImage;
  edited_images?: EditedImages;
  target_image?: TargetImage;
  target_images?: TargetImages;
  output_image?: OutputImage;
  output_images?: OutputImages;
  result_image?: ResultImage;
  result_images?: ResultImages;
  label_rank?: LabelRank;
  label_score?: LabelScore;
  task_type?: TaskType;
  response_includes_base?: ResponseIncludesBase;
  [k: string]: unknown;
}
/**
 * A local image file.
 */
export interface FileImageRef {
  kind: FileKind;
  path: FilePath;
}
/**
 * An http(s) URL, passed to the judge unchanged and never fetched by the loader.
 */
export interface UrlImageRef {
  kind: UrlKind;
  url: Url;
}
/**
 * An inline data: URL, kept as the string.
 */
export interface DataImageRef {
  kind: DataKind;
  url: DataUrl;
  mime: DataMime;
}
/**
 * Ranks aligned with the candidates; 1 is best; a permutation of 1..N.
 */
export interface RankLabel {
  rank: Rank;
}
/**
 * An integer score for a single candidate (pointwise).
 */
export interface ScoreLabel {
  score: Score;
}
/**
 * One record after normalization: the query, the optional base image, the candidates in order and the label, with every image path resolved.
 *
 * This interface was referenced by `DatasetRecord`'s JSON-Schema
 * via the `definition` "DatasetItem".
 */
export interface DatasetItem {
  index: ItemIndex;
  line?: ItemLine;
  query: ItemQuery;
  source?: ItemSource;
  candidates: ItemCandidates;
  label?: ItemLabel;
  taskType?: ItemTaskType;
  meta: ItemMeta;
}
/**
 * Every key of the record this format does not define (ids, sources, notes), as written.
 */
export interface ItemMeta {
  [k: string]: unknown;
}
