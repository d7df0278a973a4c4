import { SyscallError, errnoNumber } from './errors.js';
import { SYSCALL_NAMES, type SyscallName, type Syscalls } from './signatures.js';

export interface FaultPlan {
  /** Fail the Nth call (1-based) counted across all calls, or of `only` if given. */
  failAt: number;
  /** errno name to fail with, e.g. "EIO". */
  errno: string;
  only?: SyscallName;
}

/**
 * Wraps a real `Syscalls` and fails exactly one call of the plan. A launch
 * task can switch it on through its data, to prove that a fault midway leaves
 * no mount on the host and a worker that still serves the next launch.
 */
export function withFault(inner: Syscalls, plan: FaultPlan): Syscalls & { readonly fired: boolean } {
  let count = 0;
  let fired = false;
  const errno = errnoNumber(plan.errno);
  const wrapped = { get fired() { return fired; } } as Syscalls & { readonly fired: boolean };
  for (const name of SYSCALL_NAMES) {
    const real = inner[name] as (...args: unknown[]) => unknown;
    (wrapped as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      if (plan.only === undefined || plan.only === name) {
        count += 1;
        if (count === plan.failAt) {
          fired = true;
          throw new SyscallError(name, errno, ['(injected fault)']);
        }
      }
      return real.apply(inner, args);
    };
  }
  return wrapped;
}
