// commander, loaded with require(): it is a CommonJS package, and importing it through Node's ESM-to-CommonJS
// translation costs about 6 ms more at every start (Node 20: 21 ms against 15 ms, measured in-process), a seventh
// of everything `ncod --version` adds to Node's own start-up. Types come from the package as usual.
import { createRequire } from 'node:module';

import type * as Commander from 'commander';

const commander = createRequire(import.meta.url)('commander') as typeof Commander;

export const { Command, CommanderError, InvalidArgumentError, Option } = commander;
export type Command = Commander.Command;
export type Option = Commander.Option;
