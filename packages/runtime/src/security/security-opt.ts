// `HostConfig.SecurityOpt`, parsed as moby's parseSecurityOpt does.
import { SecurityConfigError } from '../errors.js';
import { decodeSeccompProfile } from './seccomp-profile.js';
import type { SeccompChoice } from './types.js';

export interface SecurityOptions {
  seccomp: SeccompChoice;
  /** undefined: not given (the daemon's default applies). */
  noNewPrivileges?: boolean;
  /** `systempaths=unconfined`: no masked and no read-only paths. */
  systemPathsUnconfined: boolean;
}

/** Go's strconv.ParseBool. */
function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

const invalid = (n: 1 | 2, opt: string): never => {
  throw new SecurityConfigError('invalid-security-opt', `invalid --security-opt ${n}: ${JSON.stringify(opt)}`, 'SecurityOpt');
};

/**
 * `no-new-privileges[=bool]`, `seccomp=unconfined|builtin|<json>`,
 * `label=…` and `apparmor=…` (no-ops: this host has neither SELinux nor
 * AppArmor, and Docker ignores them then), `systempaths=unconfined` (the
 * docker CLI turns it into empty MaskedPaths/ReadonlyPaths before sending;
 * accepted here for API clients). `=` or the deprecated `:` separates key and
 * value. Anything else: Docker's `invalid --security-opt` error.
 */
export function parseSecurityOpt(list: readonly string[]): SecurityOptions {
  const out: SecurityOptions = { seccomp: { kind: 'default' }, systemPathsUnconfined: false };
  for (const opt of list) {
    if (typeof opt !== 'string') invalid(1, String(opt));
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') continue; // label=disable's short form
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : undefined;
    if (sep === undefined) return invalid(1, opt);
    const at = opt.indexOf(sep);
    const key = opt.slice(0, at);
    const value = opt.slice(at + 1);
    switch (key) {
      case 'label':
      case 'apparmor':
        break;
      case 'seccomp':
        out.seccomp = seccompChoice(value);
        break;
      case 'no-new-privileges': {
        out.noNewPrivileges = parseGoBool(value) ?? invalid(2, opt);
        break;
      }
      case 'systempaths':
        if (value !== 'unconfined') invalid(2, opt);
        out.systemPathsUnconfined = true;
        break;
      case 'writable-cgroups':
        throw new SecurityConfigError(
          'invalid-unsupported-security-option',
          `security option ${JSON.stringify(opt)} is not supported by berth`,
          'SecurityOpt',
        );
      default:
        invalid(2, opt);
    }
  }
  return out;
}

function seccompChoice(value: string): SeccompChoice {
  if (value === 'unconfined') return { kind: 'unconfined' };
  if (value === '' || value === 'builtin') return { kind: 'default' };
  decodeSeccompProfile(value); // refuse it now, with Docker's message, rather than at start
  return { kind: 'custom', profile: value };
}
