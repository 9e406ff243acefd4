import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { gmmToJson } from '../gmm/json.js';
import { positiveNumber, UsageError } from './errors.js';
import { readModel } from './files.js';
import { baseUrl, expectJson, send, streamUrl, type RemoteOptions } from './remote.js';

/** The environment variable the operator verbs read the API token from (never a flag: flags show in `ps`). */
export const TOKEN_ENV = 'KLAXON_API_TOKEN';

interface CommonFlags {
  stream: string;
  url: string;
  ca?: string;
  json?: boolean;
}

function withCommon(cmd: Command): Command {
  return cmd
    .requiredOption('--stream <name>', 'the stream, as named in the config')
    .requiredOption('--url <url>', 'where klaxon serves HTTP, e.g. http://127.0.0.1:9464')
    .option('--ca <file>', 'PEM certificate to trust for an https --url (a private CA or a self-signed certificate)')
    .option('--json', "print the server's JSON answer");
}

function remote(flags: CommonFlags, needsToken: boolean): RemoteOptions {
  const token = process.env[TOKEN_ENV];
  if (needsToken && (token === undefined || token === '')) {
    throw new UsageError(`${TOKEN_ENV} is not set: export the API token the klaxon server was started with`);
  }
  return { url: flags.url, ...(needsToken ? { token } : {}), ...(flags.ca === undefined ? {} : { caFile: flags.ca }) };
}

const print = (flags: CommonFlags, answer: unknown, line: string): void => {
  process.stdout.write(flags.json ? `${JSON.stringify(answer)}\n` : `${line}\n`);
};

/** `until` as the API takes it: unix seconds as a number, anything else as the string given. */
function untilValue(raw: string): number | string {
  return /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw.trim();
}

/** `klaxon rebaseline`, `mute`, `unmute` and `reference`: the operator controls of a running klaxon, over its HTTP API. */
export function addOperatorCommands(program: Command): void {
  withCommon(
    program
      .command('rebaseline')
      .description("make the stream's current window (or --model) its new reference, on a running klaxon")
      .option('--model <file>', 'model JSON (scikit-learn field names) to use instead of the window'),
  ).action(async (flags: CommonFlags & { model?: string }) => {
    const base = baseUrl(flags.url);
    const body = flags.model === undefined ? undefined : JSON.stringify(gmmToJson(readModel(flags.model)));
    const answer = expectJson(await send('POST', streamUrl(base, flags.stream, 'rebaseline'), remote(flags, true), body)) as {
      source: string;
      components: number;
      referenceSamples: number;
      referenceTimestamp: string;
    };
    const from = answer.source === 'model' ? `to the model in ${flags.model}` : `from its window (${answer.referenceSamples} samples)`;
    print(flags, answer, `stream ${flags.stream} re-baselined ${from}: ${answer.components} components, reference set ${answer.referenceTimestamp}`);
  });

  withCommon(
    program
      .command('mute')
      .description("hold the stream's drift alerts at 0 until a time, on a running klaxon (divergences are still exported)")
      .option('--minutes <n>', 'mute for this many minutes from now', positiveNumber('--minutes'))
      .option('--until <time>', 'mute until this time: ISO-8601 with a zone (2026-01-31T18:00:00Z) or unix seconds'),
  ).action(async (flags: CommonFlags & { minutes?: number; until?: string }) => {
    if ((flags.minutes === undefined) === (flags.until === undefined)) throw new UsageError('give exactly one of --minutes and --until');
    const base = baseUrl(flags.url);
    const body = JSON.stringify(flags.minutes !== undefined ? { minutes: flags.minutes } : { until: untilValue(flags.until!) });
    const answer = expectJson(await send('POST', streamUrl(base, flags.stream, 'mute'), remote(flags, true), body)) as { mutedUntil: string };
    print(flags, answer, `stream ${flags.stream} muted until ${answer.mutedUntil}`);
  });

  withCommon(program.command('unmute').description("end the stream's mute now, on a running klaxon")).action(async (flags: CommonFlags) => {
    const answer = expectJson(await send('DELETE', streamUrl(baseUrl(flags.url), flags.stream, 'mute'), remote(flags, true)));
    print(flags, answer, `stream ${flags.stream} is not muted`);
  });

  withCommon(
    program
      .command('reference')
      .description("the stream's current reference as model JSON (scikit-learn field names), from a running klaxon")
      .option('--out <file>', 'write the model JSON here instead of to stdout'),
  ).action(async (flags: CommonFlags & { out?: string }) => {
    const model = expectJson(await send('GET', streamUrl(baseUrl(flags.url), flags.stream, 'reference'), remote(flags, false)));
    const text = `${JSON.stringify(model, null, 2)}\n`;
    if (flags.out === undefined) {
      process.stdout.write(flags.json ? `${JSON.stringify(model)}\n` : text);
      return;
    }
    try {
      writeFileSync(flags.out, text);
    } catch (err) {
      throw new UsageError(`${flags.out}: cannot write (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    print(flags, model, `reference of stream ${flags.stream} written to ${flags.out}`);
  });
}
