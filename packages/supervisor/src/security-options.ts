/**
 * `/info`'s `SecurityOptions`: what confines berth's containers, in Docker's
 * `name=X[,key=value]` form. It must say what is true: containers run without
 * a seccomp filter today (profile=unconfined), with no AppArmor, SELinux,
 * user or cgroup namespace. The one place to change when that changes.
 */
export function securityOptions(): string[] {
  return ['name=seccomp,profile=unconfined'];
}
