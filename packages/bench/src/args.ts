/** Command-line flags of `npm run bench`. */
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

export interface BenchArgs {
  quick: boolean;
  withPeers: boolean;
  out: string | undefined;
  runs: number;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [--quick] [--with-peers] [--out DIR] [--runs N]
  --quick       fewer runs (50 instead of 200), finishes in under two minutes; for development only
  --with-peers  apt-get install crun, runc, bubblewrap and podman when missing
  --out DIR     where to write <timestamp>.{md,json,svg} and latest.* (default: bench-results/ at the repository root)
  --runs N      interleaved latency iterations (default 200, quick 50)`;

export function parseBenchArgs(argv: string[]): BenchArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        'with-peers': { type: 'boolean', default: false },
        out: { type: 'string' },
        runs: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const v = parsed.values;
  const quick = v.quick === true;
  let runs = quick ? 50 : 200;
  if (v.runs !== undefined) {
    runs = Number(v.runs);
    if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`invalid --runs '${v.runs}': give a positive whole number`);
  }
  return { quick, withPeers: v['with-peers'] === true, out: v.out, runs, help: v.help === true };
}
