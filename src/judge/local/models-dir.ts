// Where downloaded judge models live: ARR_MODELS_DIR, shared by every workspace on the machine.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$ARR_MODELS_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/arr/models`. */
export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ARR_MODELS_DIR) return env.ARR_MODELS_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'arr', 'models');
}

/** The folder a Hub repository's files are kept in: `<models>/<owner>/<repo>`. */
export const repoDir = (root: string, repo: string) => join(root, ...repo.split('/'));

/** The Hub's address: `$HF_ENDPOINT`, else huggingface.co. */
export const hubUrl = (env: NodeJS.ProcessEnv = process.env) =>
  (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/$/, '');
