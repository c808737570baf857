#!/usr/bin/env node
// The `arr` command: runs the TypeScript engine directly through tsx, so there is no build step to forget.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli.ts');
