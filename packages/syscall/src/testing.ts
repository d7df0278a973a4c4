import { SyscallError, errnoNumber } from './errors.js';
import {
  SYSCALL_NAMES,
  type SyscallArgs,
  type SyscallCall,
  type SyscallName,
  type SyscallResult,
  type Syscalls,
} from './signatures.js';

type Responder<K extends SyscallName> = (...args: SyscallArgs<K>) => SyscallResult<K>;

/**
 * A recording double of `Syscalls`. It records every call with its typed
 * arguments, returns plausible results (fresh fake fds counting from 1000),
 * and can fail the next N calls of one name with a chosen errno. Unit tests
 * assert the exact kernel call sequence of a plan with it, without root.
 */
export class RecordingSyscalls {
  readonly calls: SyscallCall[] = [];
  private nextFd = 1000;
  private readonly failures = new Map<SyscallName, { errno: number; remaining: number }>();
  private readonly responders = new Map<SyscallName, (...args: never[]) => unknown>();
  /** The `Syscalls` view of this double, to pass into constructors. */
  readonly syscalls: Syscalls;

  constructor() {
    const target = {} as Record<string, unknown>;
    for (const name of SYSCALL_NAMES) {
      target[name] = (...args: unknown[]) => this.invoke(name, args);
    }
    this.syscalls = target as Syscalls;
  }

  /** Fail the next `count` calls of `name` with `errno` (a name such as "EBUSY"). */
  failNext(name: SyscallName, errno: string, count = 1): this {
    this.failures.set(name, { errno: errnoNumber(errno), remaining: count });
    return this;
  }

  /** Answer calls of `name` with a function instead of the default result. */
  respond<K extends SyscallName>(name: K, responder: Responder<K>): this {
    this.responders.set(name, responder as (...args: never[]) => unknown);
    return this;
  }

  /** Calls of one name, with their typed arguments. */
  callsOf<K extends SyscallName>(name: K): SyscallArgs<K>[] {
    return this.calls.filter((c) => c.name === name).map((c) => c.args as SyscallArgs<K>);
  }

  /** The call names in order, for sequence assertions. */
  names(): SyscallName[] {
    return this.calls.map((c) => c.name);
  }

  clear(): void {
    this.calls.length = 0;
  }

  private invoke(name: SyscallName, args: unknown[]): unknown {
    this.calls.push({ name, args } as SyscallCall);
    const failure = this.failures.get(name);
    if (failure && failure.remaining > 0) {
      failure.remaining -= 1;
      const path = args.find((a): a is string => typeof a === 'string');
      throw new SyscallError(name, failure.errno, path ? [path] : []);
    }
    const responder = this.responders.get(name);
    if (responder) return (responder as (...a: unknown[]) => unknown)(...args);
    return this.defaultResult(name, args);
  }

  private defaultResult(name: SyscallName, args: unknown[]): unknown {
    switch (name) {
      // The batched mount list: every entry succeeds, each clone a fresh fd.
      case 'cloneTrees': return { trees: (args[0] as readonly unknown[]).map(() => this.nextFd++), errno: 0, step: '' };
      case 'attachTrees': return { attached: (args[1] as readonly unknown[]).length - (args[2] as number), errno: 0, step: '' };
      case 'open': case 'openat2': case 'tryOpenat2': case 'openTree': case 'fsopen': case 'fsmount': case 'pidfdOpen': case 'socket': case 'bpfProgLoad': case 'memfdCreate':
        return this.nextFd++;
      case 'pipe2': case 'socketpair': return [this.nextFd++, this.nextFd++];
      case 'sendFds': return (args[1] as Uint8Array).length;
      case 'spawn': return 4242;
      case 'waitpid': return { pid: 0, code: null, signal: null };
      case 'lgetxattr': return null;
      case 'llistxattr': return [];
      case 'prctl': case 'ioctl': case 'poll': return 0;
      case 'mallocTrim': return false;
      default: return undefined;
    }
  }
}
