import type { Command } from 'commander';
import { HashMemo } from '../store/hash.js';
import { cacheDir } from '../workspace.js';
import { workspace } from './shared.js';

/** Prints one line per file: its sha256 (or `missing`) and path. Nx runs it as a runtime input for files outside the workspace. */
export function registerHashFilesCommand(program: Command): void {
  program
    .command('hash-files', { hidden: true })
    .description('Print the sha256 of each file (memoised by size, mtime and inode).')
    .argument('<files...>')
    .action(async (files: string[]) => {
      const memo = new HashMemo(cacheDir(workspace()));
      for (const file of files) {
        const hash = await memo.hashFile(file).then(
          (h) => h.sha256,
          () => 'missing',
        );
        console.log(`${hash}  ${file}`);
      }
      await memo.flush();
    });
}
