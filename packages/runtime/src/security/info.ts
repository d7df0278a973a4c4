import { readFileSync } from 'node:fs';

export interface SecurityFacts {
  /** The kernel filters syscalls (`Seccomp:` in /proc/self/status) and libseccomp is there to compile profiles. */
  seccomp: boolean;
  /** The daemon sets no-new-privileges on every container unless a request turns it off. */
  noNewPrivileges: boolean;
}

/**
 * `GET /info`'s `SecurityOptions`, in dockerd's order and form: seccomp
 * with the profile every container gets by default, then no-new-privileges
 * only when the daemon forces it. No apparmor, selinux, userns or rootless:
 * berth does none of them.
 */
export function securityOptions(facts: SecurityFacts): string[] {
  const out: string[] = [];
  if (facts.seccomp) out.push('name=seccomp,profile=default');
  if (facts.noNewPrivileges) out.push('name=no-new-privileges');
  return out;
}

/** Whether this kernel has seccomp filtering (what dockerd checks before it reports it). */
export function kernelHasSeccomp(): boolean {
  try {
    return /^Seccomp:\s*\d/m.test(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return false;
  }
}
