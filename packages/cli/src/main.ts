/** Entry point: parse, build the context from the global flags, run one command, map failures to exit codes. */
import { CommanderError } from 'commander';
import { buildProgram, type GlobalFlags, type Handler } from './args.js';
import { createContext, type Context, type ContextOptions } from './context.js';
import { DEFAULT_HOST, DEFAULT_ROOT } from './daemon.js';
import { describeFailure, EXIT_BERTH_FAILED } from './errors.js';

export type RunIo = Partial<Omit<ContextOptions, 'root' | 'host'>> & {
  /** Told which command runs (`run`, `image ls`), before it runs: bin/berth.js keys its code cache on it. */
  onCommand?: (path: string) => void;
};

/** Runs `berth ARGS...` and resolves with the exit status (it never calls process.exit). */
export async function run(argv: readonly string[], io: RunIo = {}): Promise<number> {
  const err = io.err ?? process.stderr;
  const out = io.out ?? process.stdout;
  let handler: Handler | undefined;
  const program = buildProgram((h) => {
    handler = h;
  });
  const configure = (cmd: typeof program): void => {
    cmd.configureOutput({
      writeOut: (s) => out.write(s),
      writeErr: (s) => err.write(s),
      outputError: (s, write) => write(`berth: ${s.replace(/^error: /, '')}`),
    });
    cmd.commands.forEach((c) => configure(c as typeof program));
  };
  configure(program);
  const { onCommand, ...contextIo } = io;
  if (onCommand) {
    program.hook('preAction', (_root, action) => {
      const path: string[] = [];
      for (let c: typeof action | null = action; c && c !== program; c = c.parent) path.unshift(c.name());
      onCommand(path.join(' '));
    });
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      const ok = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help';
      return ok ? 0 : EXIT_BERTH_FAILED;
    }
    throw error;
  }
  if (handler === undefined) {
    program.outputHelp();
    return 0;
  }
  const flags = program.opts<GlobalFlags>();
  const env = io.env ?? process.env;
  let ctx: Context | undefined;
  try {
    ctx = createContext({
      ...contextIo,
      root: flags.root ?? env['BERTH_ROOT'] ?? DEFAULT_ROOT,
      host: flags.host ?? env['BERTH_HOST'] ?? DEFAULT_HOST,
    });
    return await handler(ctx);
  } catch (error) {
    const failure = describeFailure(error);
    err.write(`${failure.message}\n`);
    return failure.exitCode;
  } finally {
    ctx?.close();
  }
}
