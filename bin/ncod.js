#!/usr/bin/env node
// The `ncod` command: runs the compiled CLI (npm run build:ts produces dist/).
import { main } from '../dist/cli/main.js';

await main(process.argv);
