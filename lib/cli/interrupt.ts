// Ctrl-C (SIGINT) or SIGTERM during a long command: the first one aborts the work between chunks, so outputs in
// progress are removed and the command ends with ERR_ABORTED; a second one exits at once.
let controller: AbortController | undefined;

/** An AbortSignal that fires on the first SIGINT or SIGTERM; commands that stream pass it to their work. */
export function interruptSignal(): AbortSignal {
  if (controller) return controller.signal;
  const own = new AbortController();
  controller = own;
  const onSignal = (signal: NodeJS.Signals) => {
    if (own.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    process.stderr.write(`\n${signal}: stopping after the current chunk (again to quit at once)\n`);
    own.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return own.signal;
}
