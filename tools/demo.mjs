// Placeholder until the launch exists: exercise the syscall core.
import { LinuxSyscalls, PrivateMountNamespace } from '@berth/syscall';
const sys = new LinuxSyscalls();
const ns = PrivateMountNamespace.create(sys);
console.log('berth: private mount namespace ready on fd', ns.fd);
