// Runs the CLI from sources (`node --import tsx lib/cli/run.ts ...`); bin/ncod.js runs the compiled main.
import { main } from './main.js';

await main(process.argv);
