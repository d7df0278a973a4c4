/*
 * berth-init: the shim outside a berth container and the stub inside it.
 *
 * One static binary in two roles (containerd's shim and runc's init, cut
 * down to what berth needs):
 *
 *  - the SHIM is what the launcher spawns. It stays in the host's pid
 *    namespace and is the parent of the container's PID 1: it forks the
 *    stub into a new pid namespace (unshare(CLONE_NEWPID) makes only the
 *    next child PID 1), records both processes in the status file, waits
 *    for PID 1, writes the exit status durably and closes the exit pipe at
 *    once (it is outside: no namespace teardown delays it), relays the
 *    terminal, and forwards the signals it gets. It never resolves a path
 *    after "go": once the stub pivots, the shim's root is the container's.
 *  - the STUB is the shim's child, PID 1 of the new pid namespace. It waits
 *    for "go" (the launcher has put it in its cgroup by then), finishes the
 *    setup (/proc, sysctls, masks, read-only paths, pivot_root, user and
 *    groups, rlimits, oom_score_adj, seccomp, capabilities) and execs the
 *    command, which becomes PID 1 itself. Nothing of berth stays inside.
 *
 * Container role (the launcher made the mount, uts, ipc and net namespaces
 * and the rootfs at --rootfs, and spawned us with cwd there):
 *   berth-init --rootfs PATH [--id ID] [--pidns new|host|NSPATH] [COMMON]... -- CMD ARGS...
 * Sandbox role (a container built ahead, sandbox.ts): the same, minus the
 * launch's own options and the command:
 *   berth-init --sandbox --rootfs PATH [--mask PATH] [--ro PATH] [--sysctl K=V]...
 * fd 3 is then a control socket (SOCK_SEQPACKET) instead of the go pipe,
 * fds 4 and 5 are placeholders, fd 6 the pid pipe. The stub mounts /proc,
 * writes the sysctls, masks and makes read-only, sends "ready" to the
 * shim, and parks; the shim reports the stub's pid (the launcher puts it
 * in its cgroup then) and parks too, named "berth-sandbox". The launch
 * message on fd 3 (see "launch message" below) brings the rest: the shim
 * takes its fds (stdio, status, exit pipe, window size), renames itself
 * "berth-shim ID", writes its state line, answers one byte on fd 3 and
 * closes it, and hands the message, with the stdio, to the stub: that is
 * its go. EOF on fd 3 instead: both exit.
 * Exec role (`docker exec`): the stub joins the namespaces of the process
 * PID (the container's PID 1, as seen from the host); the shim stays out:
 *   berth-init --exec-in PID [COMMON]... -- CMD ARGS...
 * COMMON options (the stub applies them):
 *   --user SPEC  --cwd DIR  --caps HEX  --groups LIST  --no-new-privs
 *   --seccomp FILE  --oom-score-adj N  --rlimit NAME=SOFT:HARD  --tty
 * container role only:
 *   --mask PATH  --ro PATH  --readonly-rootfs  --sysctl KEY=VALUE
 *
 * File descriptors (the launcher's contract):
 *   0-2  stdio of the command; with --tty the shim relays the terminal's
 *        output to fd 1 and fd 0 to its input.
 *   3    "go" pipe (read end), read by the stub. One byte means go; EOF
 *        without a byte means exit 1 quietly (the launcher gave up).
 *   4    status file (shim only; never reachable from the container). The
 *        shim writes, in order:
 *          shim SHIM_PID SHIM_START PID PID_START\n     (before go)
 *          exited N | signaled SIGNUM | exec-failed ERRNO MESSAGE
 *          | setup-failed STEP ERRNO MESSAGE\n          (at the end)
 *        Start times are /proc/PID/stat field 22. The first line is how a
 *        supervisor that restarted finds the container (re-adoption); the
 *        second is its exit status, which survives the supervisor.
 *   5    exit pipe (write end, shim only). Never written; the shim closes
 *        it right after the final status line, before it exits.
 *   6    pid pipe (write end, shim only): "PID\n", the stub's host pid,
 *        written after the state line; then closed. The launcher puts that
 *        pid in the container's cgroup, then sends "go".
 *   7    with --tty only: the window size file, "ROWS COLS", read at start,
 *        each time a writer closes it (inotify) and each time the shim gets
 *        SIGWINCH.
 *   Every other inherited fd is closed at start (runc CVE-2024-21626).
 * Signals: SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 sent to the
 * shim are forwarded to the command; SIGWINCH re-reads the size file.
 * Exit code (shim): the command's; 128+signal; 127 (not found); 126 (cannot
 * invoke); 125 (setup failed); 1 (no go).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define MAX_PATHS 64
#define MAX_GROUPS 64
#define MAX_LIMITS 32
/* Docker's default capability set (CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD
 * NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL
 * AUDIT_WRITE). */
#define DOCKER_CAPS 0xa80425fbULL
/* Docker's PATH, used when the container's environment has none. */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum { FD_GO = 3, FD_STATUS = 4, FD_EXIT = 5, FD_PID = 6, FD_WINSIZE = 7 };
/* Sandbox role: fd 3 is the control socket instead of the go pipe. */
enum { FD_CONTROL = 3 };
/* In the stub: the socket to the shim (failures, the terminal's master). */
enum { FD_REPORT = 4 };

/* The shim writes status lines to FD_STATUS; the stub sends them to the shim. */
static int status_fd = -1, report_fd = -1;

struct rlimit_opt {
	int resource;
	struct rlimit value;
};

struct sysctl_opt {
	const char *key, *value;
};

struct options {
	const char *rootfs, *user, *cwd, *id, *pidns, *groups, *seccomp_path;
	const char *mask[MAX_PATHS], *ro[MAX_PATHS];
	struct sysctl_opt sysctl[MAX_PATHS];
	struct rlimit_opt rlimit[MAX_LIMITS];
	int nmask, nro, nsysctl, nrlimit, readonly_rootfs, no_new_privs, tty;
	int sandbox; /* --sandbox: park before the launch message (see "sandbox role") */
	int oom_score_adj, has_oom_score_adj;
	long exec_in; /* exec role: the host pid of a process of the container */
	unsigned long long caps;
	struct sock_fprog seccomp; /* read by the shim, on the host, before the fork */
	char **argv;
};

/* ---- reporting ------------------------------------------------------- */

static const char *errname(int err)
{
	const char *name = strerrorname_np(err);
	return name ? name : "EUNKNOWN";
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the file is gone: nothing left to keep */
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * A final status line: the shim writes it to the status file; the stub
 * sends it to the shim, which writes it when the stub has exited. No fsync:
 * the page cache keeps it across a supervisor crash, and a host crash ends
 * the container too (fsync cost a millisecond on every exit).
 */
static void report_line(const char *line)
{
	if (status_fd >= 0)
		write_all(status_fd, line, strlen(line));
	else if (report_fd >= 0)
		while (send(report_fd, line, strlen(line), MSG_NOSIGNAL) < 0 && errno == EINTR)
			;
}

/* Report a failed setup step; exit 125 like Docker does when a container cannot be started. */
__attribute__((noreturn)) static void fail(const char *step, const char *what, int err)
{
	char line[1024];
	snprintf(line, sizeof line, "setup-failed %s %s %s: %s\n", step, errname(err), what, strerror(err));
	report_line(line);
	dprintf(2, "berth-init: failed to %s: %s\n", what, strerror(err));
	_exit(125);
}

/* ---- paths inside the container root ---------------------------------- */

/*
 * Open PATH (container-absolute) inside ROOT without following any symlink,
 * so an image cannot redirect a mount onto the host (CVE-2019-16884 and the
 * runc symlink races). openat2 does it in one call; on kernels without it,
 * walk component by component with O_NOFOLLOW.
 */
static int open_in_root(int root, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof how);
	if (fd >= 0 || errno != ENOSYS)
		return fd;

	char buf[PATH_MAX];
	if (strlen(path) >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	int dir = fcntl(root, F_DUPFD_CLOEXEC, 0);
	char *save = NULL;
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, "..") == 0) {
			close(dir);
			errno = EXDEV;
			return -1;
		}
		int last = (save == NULL || *save == '\0');
		int next = openat(dir, c, (last ? flags : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
		close(dir);
		if (next < 0)
			return -1;
		struct stat st;
		if (fstat(next, &st) == 0 && S_ISLNK(st.st_mode)) {
			close(next);
			errno = ELOOP;
			return -1;
		}
		dir = next;
	}
	return dir;
}

/* The magic link that names an fd: mounting onto it mounts onto the very
 * inode we checked, not onto whatever the path string resolves to later. */
static const char *fd_path(char *buf, size_t size, int fd)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
	return buf;
}

/* ---- steps before pivot_root ------------------------------------------ */

static void mount_proc(int root)
{
	int fd = open_in_root(root, "/proc", O_PATH | O_DIRECTORY);
	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(root, "proc", 0555) < 0 && errno != EEXIST)
			fail("mount-proc", "create /proc", errno);
		fd = open_in_root(root, "/proc", O_PATH | O_DIRECTORY);
	}
	/* ELOOP or ENOTDIR here means /proc is a symlink or a file: refuse. */
	if (fd < 0)
		fail("mount-proc", "open /proc as a real directory", errno);
	char p[64];
	if (mount("proc", fd_path(p, sizeof p, fd), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		fail("mount-proc", "mount proc on /proc", errno);
	close(fd);
}

/* The container's /dev/null, checked to be the real char device 1:3 before
 * it is bound over anything (CVE-2025-31133). */
static int open_dev_null(int root)
{
	int fd = open_in_root(root, "/dev/null", O_PATH);
	if (fd < 0)
		fail("mask-path", "open /dev/null", errno);
	struct stat st;
	if (fstat(fd, &st) < 0)
		fail("mask-path", "stat /dev/null", errno);
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		fail("mask-path", "use /dev/null (not char device 1:3)", EPERM);
	return fd;
}

static void mask_paths(int root, const struct options *o)
{
	int null_fd = -1;
	char what[PATH_MAX + 32], p[64], q[64];
	for (int i = 0; i < o->nmask; i++) {
		snprintf(what, sizeof what, "mask %s", o->mask[i]);
		int fd = open_in_root(root, o->mask[i], O_PATH);
		if (fd < 0 && errno == ENOENT)
			continue; /* Docker skips masked paths that do not exist. */
		if (fd < 0)
			fail("mask-path", what, errno);
		struct stat st;
		if (fstat(fd, &st) < 0)
			fail("mask-path", what, errno);
		int rc;
		if (S_ISDIR(st.st_mode)) {
			rc = mount("tmpfs", fd_path(p, sizeof p, fd), "tmpfs",
				   MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
		} else {
			if (null_fd < 0)
				null_fd = open_dev_null(root);
			rc = mount(fd_path(q, sizeof q, null_fd), fd_path(p, sizeof p, fd), NULL, MS_BIND, NULL);
		}
		if (rc < 0)
			fail("mask-path", what, errno);
		close(fd);
	}
	if (null_fd >= 0)
		close(null_fd);
}

/*
 * Bind a path onto itself and make the new mount (and its submounts)
 * read-only. mount_setattr only sets RDONLY, so nosuid/nodev/noexec of the
 * underlying mount are kept, which a classic MS_REMOUNT would have to copy.
 */
static void readonly_paths(int root, const struct options *o)
{
	char what[PATH_MAX + 32];
	for (int i = 0; i < o->nro; i++) {
		snprintf(what, sizeof what, "make %s read-only", o->ro[i]);
		int fd = open_in_root(root, o->ro[i], O_PATH);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0)
			fail("readonly-path", what, errno);
		int tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
		if (tree < 0)
			fail("readonly-path", what, errno);
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
		if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
			fail("readonly-path", what, errno);
		if (move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			fail("readonly-path", what, errno);
		close(tree);
		close(fd);
	}
}

/* runc's trick: pivot_root(".", ".") stacks the old root on top of the new
 * one, so it can be detached without a directory to put it in. */
static void pivot(int root)
{
	if (fchdir(root) < 0)
		fail("pivot-root", "enter the rootfs", errno);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		fail("pivot-root", "pivot_root into the rootfs", errno);
	/* Never let the detach propagate to a peer of the old root. */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		fail("pivot-root", "make the old root a slave", errno);
	if (umount2(".", MNT_DETACH) < 0)
		fail("pivot-root", "detach the old root", errno);
	if (chdir("/") < 0)
		fail("pivot-root", "chdir to /", errno);
}

/* ---- user and groups (container files, parsed by hand) ------------------ */

/* Parsed by hand instead of getpwnam: NSS would dlopen libraries from the
 * container into this privileged process. */
static FILE *open_db(const char *path)
{
	/* O_NONBLOCK + S_ISREG: an image cannot hang us with a FIFO. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	return fdopen(fd, "r");
}

/* Split a colon-separated line into at most N fields, in place. */
static int split(char *line, char **f, int n)
{
	int i = 0;
	line[strcspn(line, "\n")] = '\0';
	f[i++] = line;
	for (char *c = line; *c && i < n; c++)
		if (*c == ':') {
			*c = '\0';
			f[i++] = c + 1;
		}
	return i;
}

static int parse_id(const char *s, unsigned *out)
{
	char *end;
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return 0;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || v >= 0xffffffffUL)
		return 0;
	*out = (unsigned)v;
	return 1;
}

struct creds {
	uid_t uid;
	gid_t gid;
	gid_t groups[MAX_GROUPS];
	int ngroups;
};

static void resolve_user(const char *spec, struct creds *c)
{
	char user[256], name[256] = "", line[4096], *f[7], msg[600];
	const char *group = strchr(spec, ':');
	size_t ulen = group ? (size_t)(group - spec) : strlen(spec);
	if (ulen >= sizeof user || ulen == 0)
		fail("resolve-user", "parse --user", EINVAL);
	memcpy(user, spec, ulen);
	user[ulen] = '\0';
	if (group)
		group++;

	unsigned id;
	int numeric = parse_id(user, &id), found = 0;
	c->uid = numeric ? id : 0;
	c->gid = 0;
	c->ngroups = 0;
	FILE *db = open_db("/etc/passwd");
	while (db && fgets(line, sizeof line, db)) {
		if (split(line, f, 7) < 4)
			continue;
		unsigned uid, gid;
		if (!parse_id(f[2], &uid) || !parse_id(f[3], &gid))
			continue;
		if (numeric ? uid == id : strcmp(f[0], user) == 0) {
			c->uid = uid;
			c->gid = gid;
			snprintf(name, sizeof name, "%s", f[0]);
			found = 1;
			break;
		}
	}
	if (db)
		fclose(db);
	if (!numeric && !found) {
		snprintf(msg, sizeof msg, "find user %s: no matching entries in passwd file", user);
		fail("resolve-user", msg, ENOENT);
	}

	int group_found = 0, group_numeric = group && parse_id(group, &id);
	if (group_numeric)
		c->gid = id;
	db = open_db("/etc/group");
	while (db && fgets(line, sizeof line, db)) {
		if (split(line, f, 4) < 4)
			continue;
		unsigned gid;
		if (!parse_id(f[2], &gid))
			continue;
		if (group && !group_numeric && strcmp(f[0], group) == 0) {
			c->gid = gid;
			group_found = 1;
		}
		/* Supplementary groups: every group that lists the user by name. */
		if (!name[0] || c->ngroups >= MAX_GROUPS)
			continue;
		char *save = NULL;
		for (char *m = strtok_r(f[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
			if (strcmp(m, name) == 0) {
				c->groups[c->ngroups++] = gid;
				break;
			}
	}
	if (db)
		fclose(db);
	if (group && !group_numeric && !group_found) {
		snprintf(msg, sizeof msg, "find group %s: no matching entries in group file", group);
		fail("resolve-user", msg, ENOENT);
	}
}

/* GroupAdd: extra supplementary groups, by name from the container's
 * /etc/group or by number, after the user's own (Docker's order). */
static void add_groups(const char *list, struct creds *c)
{
	char buf[4096], line[4096], *f[4], msg[600];
	if (!list || !*list)
		return;
	if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf)
		fail("resolve-groups", "parse --groups", E2BIG);
	char *save = NULL;
	for (char *g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
		unsigned gid;
		int found = 0;
		FILE *db = open_db("/etc/group");
		while (!found && db && fgets(line, sizeof line, db)) {
			if (split(line, f, 4) < 3 || strcmp(f[0], g) != 0)
				continue;
			found = parse_id(f[2], &gid);
		}
		if (db)
			fclose(db);
		if (!found && !parse_id(g, &gid)) {
			snprintf(msg, sizeof msg, "find group %s: Unable to find group %s: no matching entries in group file", g, g);
			fail("resolve-groups", msg, ENOENT);
		}
		int dup = 0;
		for (int i = 0; i < c->ngroups; i++)
			dup |= c->groups[i] == gid;
		if (dup)
			continue;
		if (c->ngroups >= MAX_GROUPS)
			fail("resolve-groups", "add a supplementary group (too many)", E2BIG);
		c->groups[c->ngroups++] = gid;
	}
}

/* ---- kernel settings of the container (before capabilities are dropped) -- */

/* Namespaced sysctls, written in the container's own /proc (runc's
 * writeSystemProperty): "net.ipv4.ip_forward" is /proc/sys/net/ipv4/ip_forward. */
static void write_sysctls(int root, const struct options *o)
{
	char path[PATH_MAX], what[PATH_MAX + 64];
	for (int i = 0; i < o->nsysctl; i++) {
		const char *key = o->sysctl[i].key, *value = o->sysctl[i].value;
		snprintf(what, sizeof what, "set sysctl %s", key);
		if (!*key || strstr(key, "..") || strchr(key, '/') || key[0] == '.' ||
		    snprintf(path, sizeof path, "/proc/sys/%s", key) >= (int)sizeof path)
			fail("sysctl", what, EINVAL);
		for (char *c = path + strlen("/proc/sys/"); *c; c++)
			if (*c == '.')
				*c = '/';
		int fd = open_in_root(root, path, O_WRONLY | O_TRUNC);
		if (fd < 0)
			fail("sysctl", what, errno);
		ssize_t n = write(fd, value, strlen(value));
		if (n < 0 || (size_t)n != strlen(value))
			fail("sysctl", what, n < 0 ? errno : EIO);
		close(fd);
	}
}

static void set_limits(const struct options *o)
{
	for (int i = 0; i < o->nrlimit; i++)
		if (setrlimit((__rlimit_resource_t)o->rlimit[i].resource, &o->rlimit[i].value) < 0)
			fail("set-rlimit", "set a resource limit (--ulimit)", errno);
	if (o->has_oom_score_adj) {
		char value[32];
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		int len = snprintf(value, sizeof value, "%d", o->oom_score_adj);
		if (fd < 0 || write(fd, value, (size_t)len) != len)
			fail("set-oom-score-adj", "set oom_score_adj", errno);
		close(fd);
	}
}

/* The filter the security helper compiled (raw struct sock_filter[]). */
static void load_seccomp(const struct options *o)
{
	if (!o->seccomp.filter)
		return;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &o->seccomp) < 0)
		fail("seccomp", "load the seccomp filter", errno);
}

/* Read on the host by the shim, before anything of the container exists. */
static void read_seccomp(struct options *o)
{
	if (!o->seccomp_path)
		return;
	int fd = open(o->seccomp_path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		fail("seccomp", "open the seccomp filter", errno);
	size_t size = (size_t)st.st_size;
	if (!S_ISREG(st.st_mode) || size == 0 || size % sizeof(struct sock_filter) || size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		fail("seccomp", "read the seccomp filter (not a BPF program)", EINVAL);
	struct sock_filter *prog = malloc(size);
	if (!prog)
		fail("seccomp", "read the seccomp filter", ENOMEM);
	size_t off = 0;
	while (off < size) {
		ssize_t n = read(fd, (char *)prog + off, size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("seccomp", "read the seccomp filter", n < 0 ? errno : EIO);
		off += (size_t)n;
	}
	close(fd);
	o->seccomp.len = (unsigned short)(size / sizeof(struct sock_filter));
	o->seccomp.filter = prog;
}

/* ---- credentials and capabilities -------------------------------------- */

static void drop_privileges(const struct options *o, const struct creds *c)
{
	/* The bounding set needs CAP_SETPCAP, so it goes before the uid change. */
	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
			break; /* past /proc/sys/kernel/cap_last_cap */
		if (!(o->caps & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			fail("drop-bounding-set", "drop a capability from the bounding set", errno);
	}
	/* Always set the list: otherwise the host's supplementary groups leak in. */
	if (setgroups((size_t)c->ngroups, c->groups) < 0)
		fail("set-groups", "set supplementary groups", errno);
	if (setresgid(c->gid, c->gid, c->gid) < 0)
		fail("set-gid", "set gid", errno);
	if (setresuid(c->uid, c->uid, c->uid) < 0)
		fail("set-uid", "set uid", errno);

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fail("set-capabilities", "clear ambient capabilities", errno);
	/* Like Docker: a non-root user gets no capabilities at all (the kernel
	 * already cleared them at setresuid; we clear inheritable too). The
	 * inheritable set stays empty for root as well (CVE-2022-24769). */
	unsigned long long keep = c->uid == 0 ? o->caps : 0;
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = {
		{ .effective = (__u32)keep, .permitted = (__u32)keep, .inheritable = 0 },
		{ .effective = (__u32)(keep >> 32), .permitted = (__u32)(keep >> 32), .inheritable = 0 },
	};
	if (syscall(SYS_capset, &hdr, data) < 0)
		fail("set-capabilities", "set capabilities", errno);
	/* Off unless asked for (Docker's default): it would break setuid programs. */
	if (o->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail("set-no-new-privs", "set no_new_privs", errno);
}

/* Create the working directory like Docker does for WorkingDir. */
static void make_cwd(const char *cwd)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", cwd) >= (int)sizeof buf)
		fail("chdir", "create the working directory", ENAMETOOLONG);
	for (char *s = buf + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char saved = *s;
			*s = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				fail("chdir", "create the working directory", errno);
			if (!(*s = saved))
				break;
		}
	}
}

/* ---- exec and supervision ---------------------------------------------- */

/* execvp without the /bin/sh fallback for ENOEXEC (runc does not have it
 * either), searching the container's own PATH. Returns the errno to report. */
static int exec_command(char **argv)
{
	extern char **environ;
	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, environ);
		return errno;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = DEFAULT_PATH;
	int result = ENOENT;
	char full[PATH_MAX];
	for (const char *dir = path;; dir++) {
		const char *end = strchrnul(dir, ':');
		int len = (int)(end - dir);
		/* An empty PATH entry means the current directory. */
		if (snprintf(full, sizeof full, "%.*s%s%s", len, dir, len ? "/" : "", argv[0]) < (int)sizeof full) {
			execve(full, argv, environ);
			if (errno == EACCES)
				result = EACCES; /* keep looking, but remember it */
			else if (errno != ENOENT && errno != ENOTDIR)
				return errno;
		}
		if (!*end)
			return result;
		dir = end;
	}
}

static void report_exec_failure(const char *cmd, int err)
{
	char line[1024];
	const char *why = err == ENOENT && !strchr(cmd, '/') ? "executable file not found in $PATH" : strerror(err);
	snprintf(line, sizeof line, "exec-failed %s exec: \"%s\": %s\n", errname(err), cmd, why);
	report_line(line);
	dprintf(2, "berth-init: exec: \"%s\": %s\n", cmd, why);
}

/* ---- the terminal (--tty) ---------------------------------------------- */

/*
 * The stub opens the terminal in the container's own devpts (/dev/ptmx ->
 * pts/ptmx, after pivot_root), so `tty` and ttyname work inside; it opens
 * the peer through the master (TIOCGPTPEER, no path lookup) while still
 * root, gives it to the container's user, as runc does, and passes the
 * master out to the shim (SCM_RIGHTS), which relays it.
 */
static int open_terminal(const struct creds *c)
{
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		fail("open-tty", "open /dev/ptmx for the terminal", errno);
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		fail("open-tty", "unlock the terminal", errno);
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		fail("open-tty", "open the terminal's peer", errno);
	if (fchown(slave, c->uid, (gid_t)-1) < 0)
		fail("open-tty", "give the terminal to the container's user", errno);
	char tag[] = "tty";
	struct iovec iov = { .iov_base = tag, .iov_len = sizeof tag - 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof(int));
	if (sendmsg(report_fd, &msg, MSG_NOSIGNAL) < 0)
		fail("open-tty", "pass the terminal to the shim", errno);
	close(master);
	return slave;
}

static int winsize_fd = -1;
/* An inotify watch on the size file: a size written there reaches the
 * terminal even when nobody signals the shim (e.g. a supervisor that
 * re-adopted the container knows only its PID 1). */
static int winsize_watch = -1;

/* The master side, relayed by the shim: output to fd 1, fd 0 to input. */
struct terminal {
	int master;
	int hung_up;    /* every peer fd is closed: stop polling the master */
	int input_open; /* fd 0 has not reached EOF */
	char in[4096];
	size_t in_len, in_off; /* input read from fd 0 not yet taken by the master */
};

static void apply_winsize(int master)
{
	char buf[64];
	unsigned rows, cols;
	ssize_t n = winsize_fd < 0 || master < 0 ? -1 : pread(winsize_fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, "%u %u", &rows, &cols) != 2 || rows == 0 || cols == 0 || rows > 0xffff || cols > 0xffff)
		return;
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	ioctl(master, TIOCSWINSZ, &ws);
}

/* Copy what the terminal has to fd 1; EIO means no process holds the peer any more. */
static void copy_output(struct terminal *t)
{
	char buf[16384];
	for (;;) {
		ssize_t n = read(t->master, buf, sizeof buf);
		if (n > 0) {
			write_all(1, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno != EAGAIN)
			t->hung_up = 1;
		return;
	}
}

static void push_input(struct terminal *t)
{
	while (t->in_off < t->in_len) {
		ssize_t n = write(t->master, t->in + t->in_off, t->in_len - t->in_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return; /* the terminal's input queue is full: wait for POLLOUT */
		if (n <= 0) {
			t->in_len = t->in_off = 0; /* the terminal is gone: drop it */
			return;
		}
		t->in_off += (size_t)n;
	}
	t->in_len = t->in_off = 0;
}

static void read_input(struct terminal *t)
{
	ssize_t n;
	while ((n = read(0, t->in, sizeof t->in)) < 0 && errno == EINTR)
		;
	if (n <= 0) {
		t->input_open = 0;
		return;
	}
	t->in_len = (size_t)n;
	t->in_off = 0;
	push_input(t);
}

/* ---- the shim: supervise the stub, then the command -------------------- */

#define FAILURE_MAX 1024

struct supervision {
	pid_t child;
	int report;            /* the socket from the stub; -1 at EOF */
	char failure[FAILURE_MAX]; /* a setup-failed / exec-failed line from the stub */
	int no_go;
	struct terminal tty;
};

/* One message from the stub: a status line, "no-go", or the terminal's master. */
static int read_report(struct supervision *s)
{
	char buf[FAILURE_MAX];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	ssize_t n = recvmsg(s->report, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && errno == EINTR)
		return 1;
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		/* EOF: the stub exec'd the command (the socket is close-on-exec) or exited. */
		close(s->report);
		s->report = -1;
		return 0;
	}
	buf[n] = '\0';
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
		int fd;
		memcpy(&fd, CMSG_DATA(cm), sizeof fd);
		if (s->tty.master >= 0 || strcmp(buf, "tty") != 0) {
			close(fd);
			return 1;
		}
		s->tty.master = fd;
		apply_winsize(fd);
		fcntl(fd, F_SETFL, O_NONBLOCK);
		s->tty.input_open = 1;
		return 1;
	}
	if (strcmp(buf, "no-go") == 0)
		s->no_go = 1;
	else if (!s->failure[0] && (strncmp(buf, "setup-failed ", 13) == 0 || strncmp(buf, "exec-failed ", 12) == 0))
		snprintf(s->failure, sizeof s->failure, "%s", buf);
	return 1;
}

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static void supervised_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGWINCH);
	for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
		sigaddset(set, forwarded[i]);
}

/* The command is done (and, for a container, the kernel has ended every
 * process of its pid namespace before PID 1's exit is seen): report it. */
__attribute__((noreturn)) static void finish(struct supervision *s, int status)
{
	if (s->tty.master >= 0 && !s->tty.hung_up)
		copy_output(&s->tty); /* what is left in the terminal, now that nobody writes */
	while (s->report >= 0 && read_report(s))
		; /* a failure line sent just before the stub exited */
	char line[64];
	int code;
	if (s->no_go) {
		close(FD_EXIT);
		_exit(1);
	}
	if (s->failure[0]) {
		/* The stub exited 125, 126 or 127 after sending it. */
		report_line(s->failure);
		code = WIFEXITED(status) ? WEXITSTATUS(status) : 125;
	} else if (WIFSIGNALED(status)) {
		snprintf(line, sizeof line, "signaled %d\n", WTERMSIG(status));
		report_line(line);
		code = 128 + WTERMSIG(status);
	} else {
		snprintf(line, sizeof line, "exited %d\n", WEXITSTATUS(status));
		report_line(line);
		code = WEXITSTATUS(status);
	}
	/* At once: the launcher must not wait for our namespaces' teardown. */
	close(FD_EXIT);
	_exit(code);
}

__attribute__((noreturn)) static void supervise(struct supervision *s, const sigset_t *set)
{
	int sfd = signalfd(-1, set, SFD_CLOEXEC);
	if (sfd < 0)
		fail("supervise", "create the signal fd", errno);
	for (;;) {
		struct terminal *t = &s->tty;
		int relay = t->master >= 0;
		int pending = relay && t->in_off < t->in_len;
		struct pollfd p[5] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = s->report, .events = POLLIN },
			{ .fd = relay && !t->hung_up ? t->master : -1, .events = (short)(POLLIN | (pending ? POLLOUT : 0)) },
			{ .fd = relay && t->input_open && !pending ? 0 : -1, .events = POLLIN },
			{ .fd = relay ? winsize_watch : -1, .events = POLLIN },
		};
		if (poll(p, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail("supervise", "wait for the container", errno);
		}
		if (p[1].revents)
			read_report(s);
		if (p[4].revents & POLLIN) {
			char events[4096];
			while (read(winsize_watch, events, sizeof events) > 0)
				;
			apply_winsize(t->master);
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
			copy_output(t);
		if (p[2].revents & POLLOUT)
			push_input(t);
		if (p[3].revents & (POLLIN | POLLHUP | POLLERR))
			read_input(t);
		if (!(p[0].revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si)
			continue;
		int sig = (int)si.ssi_signo;
		if (sig == SIGWINCH) {
			/* The supervisor wrote the new size; the kernel tells the foreground group. */
			apply_winsize(t->master);
		} else if (sig != SIGCHLD) {
			kill(s->child, sig);
		} else {
			int status;
			pid_t pid;
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
				if (pid == s->child)
					finish(s, status);
		}
	}
}

/* clock ticks since boot at which PID started (/proc/PID/stat field 22). */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p += 2; /* field 3 */
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

/* ---- the stub: finish the setup inside, exec the command ----------------- */

static void join_container(const int *fds);
static int high_fd(int fd);
static void parse_args(int argc, char **argv, struct options *o);

/* Inside the container's mount and pid namespaces, before pivot_root:
 * /proc, sysctls, masked and read-only paths. Returns the rootfs's fd. */
static int prepare_root(const struct options *o)
{
	int root = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		fail("open-rootfs", "open the rootfs", errno);
	mount_proc(root);
	/* Before the read-only paths: /proc/sys is one of them. */
	write_sysctls(root, o);
	mask_paths(root, o);
	readonly_paths(root, o);
	return root;
}

static void enter_root(const struct options *o, int root)
{
	pivot(root);
	close(root);
	make_cwd(o->cwd);
	if (o->readonly_rootfs) {
		/* Only the root mount: volumes keep their own mode, as in Docker. */
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
		if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof attr) < 0)
			fail("readonly-rootfs", "make the rootfs read-only", errno);
	}
}

/*
 * The launch message of a sandbox (sandbox role): NUL-terminated strings,
 * the count of arguments first, then the arguments (the container role's
 * per-launch options, `--`, the command), then the environment; attached
 * (SCM_RIGHTS) the command's stdin, stdout and stderr, then for the shim
 * its status file, exit pipe and, with --tty, the window size file.
 */
#define LAUNCH_MAX (256 * 1024)
#define LAUNCH_FDS 6

struct launch {
	char *buf;
	size_t len;
	int fds[LAUNCH_FDS];
	int nfds;
};

/* 1 with a message, 0 at EOF (the launcher discarded the sandbox). */
static int receive_launch(int sock, struct launch *l)
{
	l->buf = malloc(LAUNCH_MAX);
	if (!l->buf)
		fail("launch", "receive the launch", ENOMEM);
	union {
		char buf[CMSG_SPACE(LAUNCH_FDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = l->buf, .iov_len = LAUNCH_MAX - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	ssize_t n;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE)))
		return 0;
	if (n < 0)
		fail("launch", "receive the launch", errno);
	l->nfds = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < k && l->nfds < LAUNCH_FDS; i++)
			memcpy(&l->fds[l->nfds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		fail("launch", "receive the launch (too large)", EMSGSIZE);
	l->buf[n] = '\0';
	l->len = (size_t)n;
	return 1;
}

/* The message's options into O (as the command line would have given them); returns the environment. */
static char **parse_launch(const struct launch *l, struct options *o)
{
	size_t count = 0;
	for (size_t i = 0; i < l->len; i++)
		count += l->buf[i] == '\0';
	char **list = calloc(count + 1, sizeof *list);
	if (!list || count == 0 || l->buf[l->len - 1] != '\0')
		fail("launch", "parse the launch", EINVAL);
	size_t k = 0;
	for (char *p = l->buf; p < l->buf + l->len; p += strlen(p) + 1)
		list[k++] = p;
	char *end;
	long nargs = strtol(list[0], &end, 10);
	if (*end || nargs < 2 || (size_t)nargs > k - 1)
		fail("launch", "parse the launch (argument count)", EINVAL);
	char **argv = calloc((size_t)nargs + 2, sizeof *argv);
	char **env = calloc(k - (size_t)nargs, sizeof *env);
	if (!argv || !env)
		fail("launch", "parse the launch", ENOMEM);
	argv[0] = "berth-init";
	memcpy(argv + 1, list + 1, (size_t)nargs * sizeof *argv);
	memcpy(env, list + 1 + nargs, (k - 1 - (size_t)nargs) * sizeof *env);
	parse_args((int)nargs + 1, argv, o);
	free(list);
	return env;
}

/* The launch's fds onto the numbers of the contract (TARGETS), through high numbers so none clobbers another. */
static void adopt_fds(const struct launch *l, const int *targets, int n)
{
	if (l->nfds < n)
		fail("launch", "receive the launch's descriptors", EBADF);
	int moved[LAUNCH_FDS];
	for (int i = 0; i < l->nfds; i++)
		moved[i] = high_fd(l->fds[i]);
	for (int i = 0; i < n; i++) {
		int flags = targets[i] > 2 ? O_CLOEXEC : 0;
		if (dup3(moved[i], targets[i], flags) < 0)
			fail("launch", "take the launch's descriptors", errno);
	}
	for (int i = 0; i < l->nfds; i++)
		close(moved[i]);
}

/* Sandbox role, in the stub: the root prepared, then parked until the launch (or EOF: discarded). */
static int park(struct options *o)
{
	int root = prepare_root(o);
	while (send(report_fd, "ready", 5, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
	struct launch l;
	if (!receive_launch(FD_REPORT, &l))
		_exit(1);
	static const int stdio[] = { 0, 1, 2 };
	adopt_fds(&l, stdio, 3);
	extern char **environ;
	environ = parse_launch(&l, o);
	/* On the host's root still: the filter's file is a host path. */
	read_seccomp(o);
	return root;
}

__attribute__((noreturn)) static void stub(struct options *o, const int *ns_fds)
{
	/* Nothing of the supervisor's, or the shim's, stays reachable in here. */
	close(FD_STATUS);
	close(FD_EXIT);
	close(FD_PID);
	close(FD_WINSIZE);
	if (o->sandbox)
		close(FD_CONTROL); /* the shim's: the launch comes to us through it */
	if (dup3(report_fd, FD_REPORT, O_CLOEXEC) < 0)
		fail("stub", "keep the report socket", errno);
	report_fd = FD_REPORT;
	status_fd = -1;
	if (o->exec_in)
		join_container(ns_fds);
	if (syscall(SYS_close_range, FD_REPORT + 1, ~0U, 0U) < 0)
		for (int fd = FD_REPORT + 1; fd < 1024; fd++)
			close(fd);

	int root = -1;
	if (o->sandbox) {
		/* Placed in our cgroup while parked: the launch message is the go. */
		root = park(o);
	} else {
		/* Wait until the launcher has put us in our cgroup. */
		char go;
		ssize_t n;
		while ((n = read(FD_GO, &go, 1)) < 0 && errno == EINTR)
			;
		if (n == 0) {
			report_line("no-go");
			_exit(1);
		}
		if (n < 0)
			fail("wait-go", "read the go pipe", errno);
		close(FD_GO);
	}
	/* Its own session, as runc gives it. */
	if (setsid() < 0)
		fail("setsid", "start a session", errno);

	if (!o->exec_in) {
		if (root < 0)
			root = prepare_root(o);
		enter_root(o, root);
	}
	struct creds c = { 0 };
	resolve_user(o->user ? o->user : "0:0", &c);
	add_groups(o->groups, &c);
	set_limits(o);
	if (o->tty) {
		int slave = open_terminal(&c);
		if (ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
			fail("open-tty", "make the terminal the command's", errno);
		close(slave);
	}
	/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the
	 * drop, as runc does (the filter must allow what follows); with it, as
	 * late as possible. */
	if (!o->no_new_privs)
		load_seccomp(o);
	drop_privileges(o, &c);
	if (chdir(o->cwd) < 0)
		fail("chdir", "chdir to the working directory", errno);
	if (o->no_new_privs)
		load_seccomp(o);
	/* A container never outlives its shim (nothing could report its exit):
	 * set last, after the credential change that would clear it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail("harden", "tie the command to its shim", errno);
	int err = exec_command(o->argv);
	report_exec_failure(o->argv[0], err);
	_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

/* ---- exec role ------------------------------------------------------------ */

static const struct { const char *name; int type; } joined[] = {
	{ "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET },
	{ "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS },
};
#define NJOINED (sizeof joined / sizeof *joined)

/*
 * Open the namespaces of the container process PID, in the shim (on the
 * host: once in the container's mount namespace, /proc no longer shows
 * PID). The shim joins the pid namespace for its children only; the stub
 * joins the rest, the mount namespace last (it moves it to the container's
 * root).
 */
static void open_container_namespaces(long pid, int *fds)
{
	char path[64];
	for (size_t i = 0; i < NJOINED; i++) {
		snprintf(path, sizeof path, "/proc/%ld/ns/%s", pid, joined[i].name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			fail("join-container", "open the container's namespaces (is it running?)", errno);
		fds[i] = high_fd(fds[i]);
	}
}

static void join_container(const int *fds)
{
	for (size_t i = 0; i < NJOINED; i++) {
		if (joined[i].type != CLONE_NEWPID && setns(fds[i], joined[i].type) < 0)
			fail("join-container", "join the container's namespaces", errno);
		close(fds[i]);
	}
}

/* ---- arguments and the main sequence ------------------------------------ */

static const struct { const char *name; int resource; } limit_names[] = {
	{ "core", RLIMIT_CORE }, { "cpu", RLIMIT_CPU }, { "data", RLIMIT_DATA }, { "fsize", RLIMIT_FSIZE },
	{ "locks", RLIMIT_LOCKS }, { "memlock", RLIMIT_MEMLOCK }, { "msgqueue", RLIMIT_MSGQUEUE },
	{ "nice", RLIMIT_NICE }, { "nofile", RLIMIT_NOFILE }, { "nproc", RLIMIT_NPROC }, { "rss", RLIMIT_RSS },
	{ "rtprio", RLIMIT_RTPRIO }, { "rttime", RLIMIT_RTTIME }, { "sigpending", RLIMIT_SIGPENDING },
	{ "stack", RLIMIT_STACK },
};

static int parse_limit_value(const char *s, const char *end, rlim_t *out)
{
	char buf[32], *stop;
	size_t len = (size_t)(end - s);
	if (len == 0 || len >= sizeof buf)
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strcmp(buf, "-1") == 0 || strcmp(buf, "unlimited") == 0) {
		*out = RLIM_INFINITY;
		return 1;
	}
	if (strspn(buf, "0123456789") != len)
		return 0;
	errno = 0;
	unsigned long long v = strtoull(buf, &stop, 10);
	if (errno)
		return 0;
	*out = (rlim_t)v;
	return 1;
}

/* NAME=SOFT:HARD (Docker's --ulimit names; -1 is unlimited). */
static void parse_rlimit(const char *v, struct options *o)
{
	const char *eq = strchr(v, '='), *colon = eq ? strchr(eq, ':') : NULL;
	if (!eq || !colon || o->nrlimit >= MAX_LIMITS)
		fail("parse-arguments", "parse --rlimit NAME=SOFT:HARD", EINVAL);
	struct rlimit_opt *r = &o->rlimit[o->nrlimit];
	r->resource = -1;
	for (size_t i = 0; i < sizeof limit_names / sizeof *limit_names; i++)
		if (strlen(limit_names[i].name) == (size_t)(eq - v) && strncmp(v, limit_names[i].name, (size_t)(eq - v)) == 0)
			r->resource = limit_names[i].resource;
	if (r->resource < 0 || !parse_limit_value(eq + 1, colon, &r->value.rlim_cur) ||
	    !parse_limit_value(colon + 1, colon + strlen(colon), &r->value.rlim_max) || r->value.rlim_cur > r->value.rlim_max)
		fail("parse-arguments", "parse --rlimit NAME=SOFT:HARD", EINVAL);
	o->nrlimit++;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	o->caps = DOCKER_CAPS;
	o->cwd = "/";
	o->pidns = "new";
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "--readonly-rootfs") == 0) {
			o->readonly_rootfs = 1;
			continue;
		}
		if (strcmp(a, "--no-new-privs") == 0) {
			o->no_new_privs = 1;
			continue;
		}
		if (strcmp(a, "--tty") == 0) {
			o->tty = 1;
			continue;
		}
		if (strcmp(a, "--sandbox") == 0) {
			o->sandbox = 1;
			continue;
		}
		if (!v)
			fail("parse-arguments", "parse arguments (missing value or unknown option)", EINVAL);
		i++;
		char *end;
		if (strcmp(a, "--rootfs") == 0)
			o->rootfs = v;
		else if (strcmp(a, "--id") == 0)
			o->id = v;
		else if (strcmp(a, "--user") == 0)
			o->user = v;
		else if (strcmp(a, "--cwd") == 0)
			o->cwd = v;
		else if (strcmp(a, "--pidns") == 0)
			o->pidns = v;
		else if (strcmp(a, "--groups") == 0)
			o->groups = v;
		else if (strcmp(a, "--seccomp") == 0)
			o->seccomp_path = v;
		else if (strcmp(a, "--exec-in") == 0) {
			o->exec_in = strtol(v, &end, 10);
			if (*end || o->exec_in <= 0)
				fail("parse-arguments", "parse --exec-in", EINVAL);
		} else if (strcmp(a, "--oom-score-adj") == 0) {
			errno = 0;
			long n = strtol(v, &end, 10);
			if (errno || *end || end == v || n < -1000 || n > 1000)
				fail("parse-arguments", "parse --oom-score-adj (-1000 to 1000)", EINVAL);
			o->oom_score_adj = (int)n;
			o->has_oom_score_adj = 1;
		} else if (strcmp(a, "--rlimit") == 0)
			parse_rlimit(v, o);
		else if (strcmp(a, "--sysctl") == 0 && o->nsysctl < MAX_PATHS) {
			const char *eq = strchr(v, '=');
			if (!eq)
				fail("parse-arguments", "parse --sysctl KEY=VALUE", EINVAL);
			char *key = strndup(v, (size_t)(eq - v));
			if (!key)
				fail("parse-arguments", "copy the arguments", ENOMEM);
			o->sysctl[o->nsysctl++] = (struct sysctl_opt){ key, eq + 1 };
		} else if (strcmp(a, "--mask") == 0 && o->nmask < MAX_PATHS)
			o->mask[o->nmask++] = v;
		else if (strcmp(a, "--ro") == 0 && o->nro < MAX_PATHS)
			o->ro[o->nro++] = v;
		else if (strcmp(a, "--caps") == 0) {
			errno = 0;
			o->caps = strtoull(v, &end, 16);
			if (errno || *end || end == v)
				fail("parse-arguments", "parse --caps", EINVAL);
		} else
			fail("parse-arguments", "parse arguments (unknown option or too many values)", EINVAL);
	}
	/* A sandbox is built without a command: it comes with the launch message. */
	int has_command = i + 1 < argc;
	if ((!has_command && !(o->sandbox && i >= argc)) || (!o->exec_in && (!o->rootfs || o->rootfs[0] != '/')) || o->cwd[0] != '/')
		fail("parse-arguments", "parse arguments (need --rootfs ABS or --exec-in PID, then -- CMD)", EINVAL);
	/* What only a container's own setup does, an exec must not silently skip. */
	if (o->exec_in && (o->rootfs || o->nmask || o->nro || o->nsysctl || o->readonly_rootfs || strcmp(o->pidns, "new") != 0))
		fail("parse-arguments", "parse arguments (--rootfs, --mask, --ro, --sysctl, --readonly-rootfs and --pidns are not for --exec-in)", EINVAL);
	if (o->sandbox && (o->exec_in || strcmp(o->pidns, "new") != 0))
		fail("parse-arguments", "parse arguments (--sandbox is for a container with its own pid namespace)", EINVAL);
	o->argv = has_command ? argv + i + 1 : NULL;
}

/* Our arguments' region, rewritten to say what we are (ps, and how a
 * restarted supervisor finds a container's shim). */
static char *title_start;
static size_t title_room;

static void set_title(const char *name, const char *id)
{
	memset(title_start, 0, title_room);
	size_t n = strlen(name) + 1;
	if (n <= title_room)
		memcpy(title_start, name, n);
	if (id && n + strlen(id) <= title_room)
		memcpy(title_start + n, id, strlen(id));
}

static const char *keep(const char *s)
{
	if (!s)
		return NULL;
	char *copy = strdup(s);
	if (!copy)
		fail("parse-arguments", "copy the arguments", ENOMEM);
	return copy;
}

/*
 * The stub shares our memory image, and its /proc/1/cmdline is readable in
 * the container while it sets up: keep copies of what is still needed, then
 * rewrite the arguments in place to "berth-shim ID" (no host path; on the
 * host, ps shows which container a shim belongs to).
 */
static void hide_host_paths(int argc, char **argv, struct options *o)
{
	const char **fields[] = { &o->rootfs, &o->user, &o->cwd, &o->id, &o->pidns, &o->groups, &o->seccomp_path };
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		*fields[i] = keep(*fields[i]);
	for (int i = 0; i < o->nmask; i++)
		o->mask[i] = keep(o->mask[i]);
	for (int i = 0; i < o->nro; i++)
		o->ro[i] = keep(o->ro[i]);
	for (int i = 0; i < o->nsysctl; i++)
		o->sysctl[i].value = keep(o->sysctl[i].value);
	int n = 0;
	while (o->argv && o->argv[n])
		n++;
	char **cmd = calloc((size_t)n + 1, sizeof *cmd);
	if (!cmd)
		fail("parse-arguments", "copy the arguments", ENOMEM);
	for (int i = 0; i < n; i++)
		cmd[i] = (char *)keep(o->argv[i]);
	o->argv = cmd;
	/* The kernel lays the arguments out back to back: one region to rewrite. */
	title_start = argv[0];
	title_room = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) - title_start);
	set_title(o->sandbox ? "berth-sandbox" : "berth-shim", o->id);
}

/*
 * Every disposition back to the default, as the command gets it under
 * Docker: our SIGPIPE, and what the launcher's spawn could not reset (glibc
 * keeps its internal signals 32 and 33 out of sigfillset and sigaction, so
 * they arrive ignored): the raw system call, which takes every number.
 */
static void default_signals(void)
{
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		unsigned long long mask;
	} dfl = { .handler = SIG_DFL };
	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
}

/* Above the fixed numbers the stub and the command use (3-7), so that no
 * close or dup2 of those ever hits one of ours. */
static int high_fd(int fd)
{
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, 16);
	if (moved < 0)
		fail("fork", "move a descriptor", errno);
	close(fd);
	return moved;
}

/* --pidns: new (the stub is PID 1 of a new namespace), host, or a path to join. */
static void enter_pid_namespace(const struct options *o)
{
	if (strcmp(o->pidns, "host") == 0)
		return;
	if (strcmp(o->pidns, "new") == 0) {
		if (unshare(CLONE_NEWPID) < 0)
			fail("pid-namespace", "create the pid namespace", errno);
		return;
	}
	int fd = open(o->pidns, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWPID) < 0)
		fail("pid-namespace", "join the pid namespace", errno);
	close(fd);
}

static void watch_winsize(const struct options *o)
{
	if (!o->tty || fcntl(FD_WINSIZE, F_GETFD) < 0)
		return;
	winsize_fd = FD_WINSIZE;
	/* Now, while /proc is still the host's: the stub's pivot_root moves our root too. */
	winsize_watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (winsize_watch >= 0 && inotify_add_watch(winsize_watch, "/proc/self/fd/7", IN_CLOSE_WRITE) < 0) {
		close(winsize_watch);
		winsize_watch = -1;
	}
	if (winsize_watch >= 0)
		winsize_watch = high_fd(winsize_watch);
}

static void report_pid(pid_t child)
{
	char line[32];
	snprintf(line, sizeof line, "%d\n", (int)child);
	write_all(FD_PID, line, strlen(line));
	close(FD_PID);
}

/*
 * Sandbox role, in the shim, parked: 1 when the control socket has the launch
 * (or EOF), 0 when the stub's end of the report socket closed first (it was
 * killed while parked). A shim that outlived its stub would take the launch
 * and fail it; exiting instead lets the launcher see a dead sandbox when it
 * takes one (waitpid) and build the container inline.
 */
static int stub_parked_until_launch(int report)
{
	struct pollfd p[2] = { { .fd = FD_CONTROL, .events = POLLIN }, { .fd = report, .events = POLLIN } };
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail("launch", "wait for the launch", errno);
		}
		if (p[0].revents)
			return 1;
		if (p[1].revents)
			return 0;
	}
}

/*
 * Sandbox role, in the shim, after the fork: wait until the stub has
 * prepared the root, report its pid (the launcher puts it in its cgroup
 * then), and park until the launch message; then become the container's
 * shim: its fds, its name, its terminal. The message goes on to the stub
 * after the caller has written the state line.
 */
static void await_launch(struct options *o, struct supervision *s, struct launch *l)
{
	char buf[FAILURE_MAX];
	ssize_t n;
	while ((n = recv(s->report, buf, sizeof buf - 1, 0)) < 0 && errno == EINTR)
		;
	if (n != 5 || memcmp(buf, "ready", 5) != 0) {
		/* The stub failed its setup (or died): no pid, so the launcher drops this sandbox. */
		if (n > 0) {
			buf[n] = '\0';
			dprintf(2, "berth-init: sandbox: %s", buf);
		}
		_exit(125);
	}
	report_pid(s->child);
	if (!stub_parked_until_launch(s->report)) {
		/* The stub is gone: reaped here, so its cgroup empties at once (a zombie still counts in it),
		 * and the launcher finds this shim dead and builds inline. */
		while (waitpid(s->child, NULL, 0) < 0 && errno == EINTR)
			;
		_exit(125);
	}
	if (!receive_launch(FD_CONTROL, l))
		_exit(0); /* discarded: the stub sees EOF on its socket and exits too */
	static const int shim_fds[] = { 0, 1, 2, FD_STATUS, FD_EXIT, FD_WINSIZE };
	adopt_fds(l, shim_fds, l->nfds);
	status_fd = FD_STATUS;
	parse_launch(l, o);
	set_title("berth-shim", o->id);
	watch_winsize(o);
}

/* Sandbox role: the launch, with the command's stdio, on to the parked stub. */
static void forward_launch(const struct supervision *s, const struct launch *l)
{
	int fds[3] = { 0, 1, 2 };
	union {
		char buf[CMSG_SPACE(sizeof fds)];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct iovec iov = { .iov_base = l->buf, .iov_len = l->len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof fds);
	memcpy(CMSG_DATA(cm), fds, sizeof fds);
	ssize_t n;
	while ((n = sendmsg(s->report, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n < 0)
		fail("launch", "hand the launch to the container's first process", errno);
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	/* Our own fds, never the command's; without them, nothing is reported. */
	for (int fd = FD_STATUS; fd <= FD_WINSIZE; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (fcntl(FD_STATUS, F_GETFD) >= 0)
		status_fd = FD_STATUS;
	if (syscall(SYS_close_range, FD_WINSIZE + 1, ~0U, 0U) < 0)
		for (int fd = FD_WINSIZE + 1; fd < 1024; fd++)
			close(fd);
	/*
	 * Not dumpable: the stub inherits it (it is reset only by its execve of
	 * the command), so no process of the container can ptrace it or open
	 * its /proc/1/{exe,fd,mem,environ} while it sets up.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail("harden", "make the shim non-dumpable", errno);
	parse_args(argc, argv, &o);
	hide_host_paths(argc, argv, &o);
	if (o.sandbox)
		status_fd = -1; /* fds 4 and 5 are placeholders until the launch */
	read_seccomp(&o);
	watch_winsize(&o);

	int ns_fds[NJOINED];
	if (o.exec_in) {
		open_container_namespaces(o.exec_in, ns_fds);
		if (setns(ns_fds[3], CLONE_NEWPID) < 0) /* for the stub only: we stay out */
			fail("join-container", "join the container's pid namespace", errno);
	} else {
		enter_pid_namespace(&o);
	}
	int pair[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		fail("fork", "create the report socket", errno);
	pair[0] = high_fd(pair[0]);
	pair[1] = high_fd(pair[1]);
	/* A reader of our stdio or pipes that went away must not end the shim
	 * (it would lose the status); the stub sets it back for the command. */
	signal(SIGPIPE, SIG_IGN);
	sigset_t set, old;
	supervised_signals(&set);
	/* Blocked before the fork: nothing sent to us is lost before the loop. */
	sigprocmask(SIG_BLOCK, &set, &old);

	struct supervision s = { .report = pair[0], .tty = { .master = -1 } };
	s.child = fork();
	if (s.child < 0)
		fail("fork", "fork the container's first process", errno);
	if (s.child == 0) {
		default_signals();
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(pair[0]);
		report_fd = pair[1];
		stub(&o, ns_fds);
	}
	close(pair[1]);
	/* Read now: a sandbox's launch then answers without two /proc reads on its path. */
	unsigned long long shim_start = start_time(getpid()), child_start = start_time(s.child);
	struct launch l = { 0 };
	if (o.sandbox)
		await_launch(&o, &s, &l);
	else
		close(FD_GO);
	if (o.exec_in)
		for (size_t i = 0; i < NJOINED; i++)
			close(ns_fds[i]);

	/* Who we are, before the stub may run anything: how a supervisor that
	 * restarted finds this container. Then the pid the launcher waits for
	 * (a sandbox's was reported when it parked). */
	char line[160];
	snprintf(line, sizeof line, "shim %d %llu %d %llu\n", (int)getpid(), shim_start, (int)s.child, child_start);
	report_line(line);
	if (o.sandbox) {
		/* The launcher returns once the state line is written, as after the pid report. */
		write_all(FD_CONTROL, "k", 1);
		close(FD_CONTROL);
		forward_launch(&s, &l);
	} else {
		report_pid(s.child);
	}
	supervise(&s, &set);
}
