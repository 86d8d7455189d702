#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, from any working directory (the path is relative to this file).
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/cli/main.ts', import.meta.url).href);
