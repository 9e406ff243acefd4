#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { addDivergenceCommands } from './cli/divergence.js';
import { addEvaluateCommand } from './cli/evaluate.js';
import { addFitCommand } from './cli/fit.js';
import { addOperatorCommands } from './cli/operator.js';
import { addProduceDemoCommand } from './cli/produce-demo.js';
import { addRunCommand } from './cli/run.js';

/**
 * The `klaxon` command line. Every user error ends as one line on stderr and a non-zero
 * exit; a stack trace means a bug in klaxon, not in the input.
 */
export function buildProgram(): Command {
  const program = new Command()
    .name('klaxon')
    .description('Streaming data-drift monitor: Gaussian mixtures, KL/JS divergence with error bars, Prometheus alerts')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(oneLine(str)) });
  addRunCommand(program);
  addDivergenceCommands(program);
  addFitCommand(program);
  addEvaluateCommand(program);
  addOperatorCommands(program);
  addProduceDemoCommand(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** package.json's version: the CLI runs as dist/src/cli.js, two levels below it. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Commander's messages as one line with our prefix. */
function oneLine(message: string): string {
  return `${message.trim().split('\n')[0]!.replace(/^error: /, 'klaxon: ')} (see klaxon --help)\n`;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander already printed its one-line message otherwise.
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`klaxon: ${err instanceof Error ? err.message : String(err)}\n`);
    // Usage errors exit 2; a refusal by a klaxon server (RemoteError) says which code it wants.
    const code = (err as { exitCode?: unknown } | null)?.exitCode;
    process.exitCode = typeof code === 'number' ? code : 2;
  }
}

await main(process.argv);
