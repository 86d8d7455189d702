// `node --import tsx --import ./test/helpers/source-imports.js file.ts`: a program that imports the
// package by name (as the README's examples do) gets src/, like the tests and the CLI they spawn,
// with no build needed.
import { register } from 'node:module';

register('./self-import-hooks.js', import.meta.url);
