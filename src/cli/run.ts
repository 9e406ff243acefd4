import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { startApp } from '../app.js';
import { loadConfig } from '../config/load.js';

/** The packaged default, so `klaxon run` works from any directory. */
const BUILT_IN_CONFIG = fileURLToPath(new URL('../../../config/klaxon.yaml', import.meta.url));

/** `klaxon run`: the service. Stops cleanly on SIGTERM/SIGINT; a second signal forces exit. */
export function addRunCommand(program: Command): void {
  program
    .command('run', { isDefault: false })
    .description('run the monitor (the built-in demo source unless the config names another)')
    .option('--config <file>', 'YAML configuration', 'config/klaxon.yaml')
    .action(async (flags: { config: string }) => {
      const path = flags.config === 'config/klaxon.yaml' && !existsSync(flags.config) ? BUILT_IN_CONFIG : flags.config;
      const config = loadConfig(path);
      // Before the start, which can take a while (a Kafka source waits out its first connect):
      // a signal then ended the process silently, by the default action.
      const early = (signal: NodeJS.Signals): void => {
        process.stderr.write(`klaxon: ${signal} while starting; exiting\n`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      };
      process.on('SIGTERM', early).on('SIGINT', early);
      const app = await startApp({ config });
      let stopping = false;
      const stop = (signal: NodeJS.Signals): void => {
        if (stopping) process.exit(1);
        stopping = true;
        app.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            process.stderr.write(`klaxon: shutdown after ${signal} failed: ${String(err)}\n`);
            process.exit(1);
          },
        );
      };
      process.off('SIGTERM', early).off('SIGINT', early);
      process.on('SIGTERM', stop).on('SIGINT', stop);
    });
}
