// What judge.local.model and judge.local.mmproj name: a file on disk or a file (or repository) on the Hub.
import { isAbsolute, resolve } from 'node:path';
import { ArrError } from '../../util/errors.js';

export interface HubRef {
  kind: 'hub';
  /** `owner/name`. */
  repo: string;
  /** Branch, tag or commit; `main` when not given. */
  revision: string;
  /** A file inside the repository; absent when the file is picked from the repository's listing. */
  file?: string;
  /** The reference as written. */
  text: string;
}
export interface FileRef {
  kind: 'file';
  path: string;
  text: string;
}
export type ModelRef = HubRef | FileRef;

const HUB = /^hf:\/\/([A-Za-z0-9][\w.-]*)\/([\w.-]+)(?:@([^/]+))?(?:\/(.+))?$/;

/** Parses `hf://<owner>/<repo>[@<revision>][/<file>]` or a path (relative to `base`). */
export function parseModelRef(text: string, base = process.cwd()): ModelRef {
  if (text.startsWith('hf://')) {
    const m = HUB.exec(text);
    if (!m)
      throw new ArrError(
        `judge.local: "${text}" is not a Hub reference of the form hf://<owner>/<repo>[@<revision>][/<file>]`,
      );
    return { kind: 'hub', repo: `${m[1]}/${m[2]}`, revision: m[3] ?? 'main', file: m[4], text };
  }
  return { kind: 'file', path: isAbsolute(text) ? text : resolve(base, text), text };
}

/** The shell-style pattern a repository reference picks its model file by, e.g. `*Q4_K_M.gguf`. */
export const quantPattern = (quant: string) => `*${quant}.gguf`;
export const MMPROJ_PATTERN = 'mmproj*.gguf';

/** The language model file among a repository's files: the one ending in `<quant>.gguf` (not a projector). */
export function pickModelFile(paths: string[], quant: string): string | undefined {
  const suffix = `${quant}.gguf`.toLowerCase();
  return paths
    .filter((p) => !isProjector(p) && p.toLowerCase().endsWith(suffix))
    .sort((a, b) => a.length - b.length)[0];
}

/** The projector among a repository's files: `mmproj*.gguf`, F16 preferred, then the shortest name. */
export function pickProjectorFile(paths: string[]): string | undefined {
  const projectors = paths.filter(isProjector).sort((a, b) => a.length - b.length);
  return projectors.find((p) => /f16/i.test(basename(p))) ?? projectors[0];
}

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const isProjector = (p: string) => /^mmproj.*\.gguf$/i.test(basename(p));
