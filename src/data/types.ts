// The dataset types, generated from schemas/dataset-record.schema.json (npm run gen).
export type {
  DataImageRef,
  DatasetItem,
  DatasetRecord,
  FileImageRef,
  ImageList,
  ImageRef,
  Label,
  RankLabel,
  ScoreLabel,
  UrlImageRef,
} from '../types/dataset.js';
