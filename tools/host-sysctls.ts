/**
 * vitest global setup of the root tests: the host's `net.ipv4.ip_forward`
 * as found. netavark turns it on for a bridge network (as Docker and Podman
 * do, and leave it on); once every root test has run, it is put back.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

export default function setup(): () => void {
  let before: string;
  try {
    before = readFileSync(IP_FORWARD, 'utf8');
  } catch {
    return () => undefined;
  }
  return () => {
    try {
      if (readFileSync(IP_FORWARD, 'utf8') !== before) writeFileSync(IP_FORWARD, before);
    } catch { /* not root: nothing could have changed it */ }
  };
}
