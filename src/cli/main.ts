/**
 * The `swarm` command. The only place that wires components together
 * (DESIGN.md, Layout): flags in, engines and servers built, output out.
 */
import { Command, CommanderError, Option } from 'commander';
import { isSwarmError } from '../core/errors.ts';
import { registerAudit } from './audit.ts';
import { registerBench } from './bench.ts';
import { registerChat } from './chat.ts';
import { registerDemo } from './demo-command.ts';
import { registerGenerate } from './generate.ts';
import { registerServe } from './serve.ts';
import { registerTrain } from './train.ts';
import { registerUp } from './up.ts';
import { registerProvide } from './provide.ts';
import { registerRun } from './run.ts';
import { registerTracker } from './tracker.ts';
import { registerWitness } from './witness.ts';
import { registerWhoami } from './whoami.ts';
import { registerCouncil } from './council.ts';
import { registerCla } from './cla.ts';

export const VERSION = '0.1.0';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('swarm')
    .description(
      'Sovereign Swarm: volunteers train and serve open language models together. ' +
        'Every work unit is computed with deterministic kernels, so a quorum of ' +
        'volunteers can verify results by comparing hashes. Run `swarm <command> --help` for the options of each command.',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: true });
  registerUp(program);
  registerDemo(program);
  registerBench(program);
  registerTrain(program);
  registerGenerate(program);
  registerServe(program);
  registerChat(program);
  registerTracker(program);
  registerProvide(program);
  registerRun(program);
  registerWitness(program);
  registerAudit(program);
  registerWhoami(program);
  registerCouncil(program);
  registerCla(program);
  describeListDefaults(program);
  return program;
}

/** Help shows a list option's default as it is typed (ref,wasm; none when empty), not as JSON. */
function describeListDefaults(c: Command): void {
  for (const o of c.options) {
    if (Array.isArray(o.defaultValue) && o.defaultValueDescription === undefined) {
      o.defaultValueDescription = o.defaultValue.length === 0 ? 'none' : o.defaultValue.join(',');
    }
  }
  c.commands.forEach(describeListDefaults);
}

/** Runs the CLI; returns the process exit code instead of exiting (testable). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0
      return err.exitCode;
    }
    if (isSwarmError(err)) {
      // A database error's own words (which database, which role) help the operator; the CLI may show them.
      const driver = typeof err.details?.driverMessage === 'string' ? ` (${err.details.driverMessage})` : '';
      process.stderr.write(`swarm: error ${err.code}: ${err.message}${driver}\n`);
      return 1;
    }
    process.stderr.write(`swarm: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 70; // EX_SOFTWARE (sysexits.h)
  }
}

export { Option };
