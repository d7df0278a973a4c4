/** docker's "[y/N]" confirmation, read from stdin (no answer, or end of input, means no). */
import { createInterface } from 'node:readline';
import type { Context } from './context.js';

export async function confirm(ctx: Context, warning: string): Promise<boolean> {
  ctx.out.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  const rl = createInterface({ input: ctx.stdin, terminal: false });
  try {
    const line = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    return /^y(es)?$/i.test(line.trim());
  } finally {
    rl.close();
  }
}
