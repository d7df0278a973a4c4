/**
 * netavark 1.4 makes a few shared chains on its first setup
 * (`NETAVARK-HOSTPORT-{DNAT,MASQ,SETMARK}` in nat, `NETAVARK_FORWARD` in
 * filter, and the jumps to them) and never removes them. When no netavark
 * network has rules any more (no per-network chain, an empty forward chain)
 * berth removes exactly those, so the host's rules end as they began. It
 * deletes only netavark's own chains and jumps, never writes a rule.
 */
import { spawnSync } from 'node:child_process';

const NAT_JUMPS = [
  ['PREROUTING', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'NETAVARK-HOSTPORT-DNAT'],
  ['OUTPUT', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'NETAVARK-HOSTPORT-DNAT'],
  ['POSTROUTING', '-j', 'NETAVARK-HOSTPORT-MASQ'],
];
const NAT_CHAINS = ['NETAVARK-HOSTPORT-DNAT', 'NETAVARK-HOSTPORT-MASQ', 'NETAVARK-HOSTPORT-SETMARK'];
const FILTER_JUMP = ['FORWARD', '-m', 'comment', '--comment', 'netavark firewall plugin rules', '-j', 'NETAVARK_FORWARD'];

function iptables(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('iptables', ['-w', ...args], { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout ?? '' };
}

/** True when netavark's shared chains carry no network's rules (nothing of anyone's is attached). */
export function netavarkIdle(): boolean {
  const nat = iptables(['-t', 'nat', '-S']).out;
  // Per-network chains are NETAVARK-<hex>; per-container port chains NETAVARK-DN-<hex>.
  if (/^-N NETAVARK-(?!HOSTPORT-)/m.test(nat)) return false;
  if (/^-A NETAVARK-HOSTPORT-DNAT /m.test(nat)) return false;
  const filter = iptables(['-S']).out;
  return !/^-A NETAVARK_FORWARD /m.test(filter);
}

/** Removes netavark's idle shared chains; returns whether there was anything to remove. */
export function removeIdleNetavarkChains(): boolean {
  if (!netavarkIdle()) return false;
  let removed = false;
  for (const jump of NAT_JUMPS) while (iptables(['-t', 'nat', '-D', ...jump]).ok) removed = true;
  for (const chain of NAT_CHAINS) {
    if (iptables(['-t', 'nat', '-F', chain]).ok && iptables(['-t', 'nat', '-X', chain]).ok) removed = true;
  }
  while (iptables(['-D', ...FILTER_JUMP]).ok) removed = true;
  if (iptables(['-F', 'NETAVARK_FORWARD']).ok && iptables(['-X', 'NETAVARK_FORWARD']).ok) removed = true;
  return removed;
}
