/** One problem in a user's input, located precisely enough to jump to it. */
export interface Diagnostic {
  /** Absolute path of the file the problem is in. */
  file: string;
  /** 1-based line and column, when the problem has a place in the file. */
  line?: number;
  col?: number;
  /** Dotted field path (`judge.concurrency`, `records[3].label_rank`), when the problem belongs to a field. */
  field?: string;
  message: string;
  /** `warning` never fails a command; the default is `error`. */
  severity?: 'error' | 'warning';
}
