/*
 * berth-init: the first process of a berth container.
 *
 * The launching worker thread has already unshared the mount/pid/uts/ipc(/net)
 * namespaces, mounted the rootfs (with volumes, /dev and /sys) at --rootfs and
 * started us there as PID 1 of the new pid namespace. What is left must happen
 * in a process that is already inside that pid namespace and shares nothing
 * with a pooled thread: mounting /proc, masking, pivot_root, dropping
 * credentials and capabilities (per task, irreversible), and exec.
 *
 * Protocol (the TypeScript launcher depends on it):
 *   berth-init --rootfs PATH [--id ID] [--user SPEC] [--cwd DIR] [--mask PATH]...
 *              [--ro PATH]... [--readonly-rootfs] [--init] [--caps HEX]
 *              [--no-new-privs | --allow-new-privs] [--tty] -- CMD ARGS...
 *   fd 3: "go" pipe. One byte means go; EOF without a byte means exit 1 quietly.
 *   fd 4: status file (optional). One line is written before exit and fsynced:
 *           exited N | signaled SIGNUM | exec-failed ERRNO MESSAGE
 *           | setup-failed STEP ERRNO MESSAGE
 *         It outlives a supervisor crash: the supervisor may not be our parent.
 *   fd 5: exit pipe (optional, write end). Never written; it closes when the
 *         init exits, which is how the launcher learns of the exit without
 *         depending on the thread that started us.
 *   fd 6: with --tty only, the window size file (optional): "ROWS COLS",
 *         read at start and again on each SIGWINCH the supervisor sends.
 *   --tty: the command runs on a terminal of the container's own devpts
 *         (its session and controlling terminal); the init relays the
 *         terminal's output to fd 1 and fd 0 to its input, so the output
 *         still lands in the supervisor's append-only file.
 *
 * Exec mode (`docker exec`): berth-init --exec-in PID [--user SPEC] [--cwd DIR]
 *   [--caps HEX] [--no-new-privs] [--tty] -- CMD ARGS...
 *   joins the namespaces of the container whose init is PID (ipc, uts, net,
 *   pid, and mnt last: it moves us to the container's root), then runs the
 *   command as above, as a child in the container's pid namespace. It is
 *   not that namespace's init: it ends nothing but waits for its command.
 *   fds 3-6 as above.
 *   Once parsed, the arguments are rewritten in place to "berth-init ID"
 *   (no host path shows in the container's /proc/1/cmdline).
 *   Every other inherited fd is closed at start: a host fd leaked into a
 *   container is an escape (runc CVE-2024-21626).
 *   Exit code: the command's, 128+signal, 127 (not found), 126 (cannot
 *   invoke), 125 (setup failed), 1 (no go).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define MAX_PATHS 64
#define MAX_GROUPS 64
/* Docker's default capability set (CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD
 * NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL
 * AUDIT_WRITE). */
#define DOCKER_CAPS 0xa80425fbULL
/* Docker's PATH, used when the container's environment has none. */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int status_fd = -1;

struct options {
	const char *rootfs, *user, *cwd, *id;
	const char *mask[MAX_PATHS], *ro[MAX_PATHS];
	int nmask, nro, readonly_rootfs, no_new_privs, tty;
	long exec_in; /* exec mode: the pid of the container's init */
	unsigned long long caps;
	char **argv;
};

/* ---- reporting ------------------------------------------------------- */

static const char *errname(int err)
{
	const char *name = strerrorname_np(err);
	return name ? name : "EUNKNOWN";
}

static void write_status(const char *line)
{
	if (status_fd < 0)
		return;
	size_t len = strlen(line), off = 0;
	while (off < len) {
		ssize_t n = write(status_fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += (size_t)n;
	}
	/* No fsync: the status must survive a crash of the supervisor, which the
	 * page cache guarantees. A host crash ends the container too, and the
	 * supervisor then finds no status line and says so. fsync here cost a
	 * millisecond on every exit. */
}

/* Report a failed setup step on the status fd and stderr; exit 125 like
 * Docker does when a container cannot be started. */
__attribute__((noreturn)) static void fail(const char *step, const char *what, int err)
{
	char line[1024];
	snprintf(line, sizeof line, "setup-failed %s %s %s: %s\n", step, errname(err), what,
		 strerror(err));
	write_status(line);
	fprintf(stderr, "berth-init: failed to %s: %s\n", what, strerror(err));
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
	write_status(line);
	fprintf(stderr, "berth-init: exec: \"%s\": %s\n", cmd, why);
}

/* ---- the terminal (--tty) ---------------------------------------------- */

static int winsize_fd = -1;

/* The master side, relayed by the init: output to fd 1, fd 0 to input. */
struct terminal {
	int master, slave;
	int hung_up;     /* every slave fd is closed: stop polling the master */
	int input_open;  /* fd 0 has not reached EOF */
	char in[4096];
	size_t in_len, in_off; /* input read from fd 0 not yet taken by the master */
};

static void apply_winsize(int master)
{
	char buf[64];
	unsigned rows, cols;
	ssize_t n = winsize_fd < 0 ? -1 : pread(winsize_fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, "%u %u", &rows, &cols) != 2 || rows == 0 || cols == 0 || rows > 0xffff || cols > 0xffff)
		return;
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	ioctl(master, TIOCSWINSZ, &ws);
}

/*
 * The terminal comes from the container's own devpts (/dev/ptmx ->
 * pts/ptmx), so `tty` and ttyname work inside; the peer is opened through
 * the master (TIOCGPTPEER, no path lookup) while we are still root, and
 * handed to the user the command runs as, as runc does.
 */
static void open_terminal(const struct creds *c, struct terminal *t)
{
	t->master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->master < 0)
		fail("open-tty", "open /dev/ptmx for the terminal", errno);
	int unlock = 0;
	if (ioctl(t->master, TIOCSPTLCK, &unlock) < 0)
		fail("open-tty", "unlock the terminal", errno);
	t->slave = ioctl(t->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->slave < 0)
		fail("open-tty", "open the terminal's peer", errno);
	if (fchown(t->slave, c->uid, (gid_t)-1) < 0)
		fail("open-tty", "give the terminal to the container's user", errno);
	apply_winsize(t->master);
	if (fcntl(t->master, F_SETFL, O_NONBLOCK) < 0)
		fail("open-tty", "make the terminal non-blocking", errno);
	t->input_open = 1;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the output file is gone: nothing left to keep */
		buf += n;
		len -= (size_t)n;
	}
}

/* Copy what the terminal has to fd 1; an EIO means no process holds the peer any more. */
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

/* Relay between the terminal and fds 0/1 until a signal arrives; returns its number. */
static int relay_until_signal(struct terminal *t, int sfd)
{
	for (;;) {
		int pending = t->in_off < t->in_len;
		struct pollfd p[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = t->hung_up ? -1 : t->master, .events = (short)(POLLIN | (pending ? POLLOUT : 0)) },
			{ .fd = t->input_open && !pending ? 0 : -1, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail("relay-tty", "wait for the terminal", errno);
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
			copy_output(t);
		if (p[1].revents & POLLOUT)
			push_input(t);
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
			read_input(t);
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
				return (int)si.ssi_signo;
		}
	}
}

/*
 * Fork the command and stay as PID 1: forward signals, reap every zombie
 * (orphans of the container are re-parented to us), and exit with the main
 * child's status. PID 1 cannot die of its own signal (the kernel ignores
 * default-handled signals for a namespace's init), hence 128+signal.
 */
/*
 * The command is done: end every other process of the container and reap
 * them before reporting, so that once the status line is written (and our
 * exit pipe closes) nothing of the container runs or writes any more. The
 * kernel would kill them when we exit, but only after the launcher has
 * already been told; this makes "exited" mean "all gone".
 */
static void end_all_processes(void)
{
	kill(-1, SIGKILL);
	for (;;) {
		if (waitpid(-1, NULL, 0) >= 0)
			continue;
		if (errno != EINTR)
			break;
	}
}

__attribute__((noreturn)) static void run(char **argv, struct terminal *tty, int container_init)
{
	static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
		sigaddset(&set, forwarded[i]);
	/* Blocked signals are queued even for a namespace init; sigwaitinfo
	 * takes them, so nothing is lost between fork and the loop. */
	sigprocmask(SIG_BLOCK, &set, &old);
	/* A resize signalled before the block was lost (SIGWINCH is ignored by
	 * default): read the size again now that later ones queue. */
	if (tty)
		apply_winsize(tty->master);

	int report[2];
	if (pipe2(report, O_CLOEXEC) < 0)
		fail("fork", "create the exec report pipe", errno);
	pid_t child = fork();
	if (child < 0)
		fail("fork", "fork the command", errno);
	if (child == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(report[0]);
		int err = 0;
		/* Its own session, with the terminal as controlling terminal and stdio. */
		if (tty && (setsid() < 0 || ioctl(tty->slave, TIOCSCTTY, 0) < 0 || dup2(tty->slave, 0) < 0 ||
			    dup2(tty->slave, 1) < 0 || dup2(tty->slave, 2) < 0))
			err = errno;
		if (!err)
			err = exec_command(argv);
		/* The write end closes on a successful exec: EOF means success. */
		ssize_t ignored = write(report[1], &err, sizeof err);
		(void)ignored;
		_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
	}
	close(report[1]);
	int err = 0;
	ssize_t n;
	while ((n = read(report[0], &err, sizeof err)) < 0 && errno == EINTR)
		;
	close(report[0]);
	int exec_failed = n == (ssize_t)sizeof err;
	int sfd = -1;
	if (tty) {
		/* Only the command and its children may hold the peer: its EIO is their end. */
		close(tty->slave);
		sfd = signalfd(-1, &set, SFD_CLOEXEC);
		if (sfd < 0)
			fail("relay-tty", "create the signal fd", errno);
	}

	for (;;) {
		int sig;
		if (tty) {
			sig = relay_until_signal(tty, sfd);
		} else {
			siginfo_t info;
			sig = sigwaitinfo(&set, &info);
		}
		if (sig < 0)
			continue;
		if (tty && sig == SIGWINCH) {
			/* The supervisor wrote the new size; the kernel tells the foreground group. */
			apply_winsize(tty->master);
			continue;
		}
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != child)
				continue;
			/* An exec'd command is not the container: what it started runs on. */
			if (container_init)
				end_all_processes();
			if (tty)
				copy_output(tty); /* what is left in the terminal, now that nobody writes */
			char line[64];
			int code;
			if (exec_failed) {
				report_exec_failure(argv[0], err);
				_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
			} else if (WIFSIGNALED(status)) {
				snprintf(line, sizeof line, "signaled %d\n", WTERMSIG(status));
				code = 128 + WTERMSIG(status);
			} else {
				snprintf(line, sizeof line, "exited %d\n", WEXITSTATUS(status));
				code = WEXITSTATUS(status);
			}
			write_status(line);
			_exit(code);
		}
	}
}

/* ---- exec mode ------------------------------------------------------------ */

/*
 * Join the namespaces of the container whose init is PID. All are opened
 * first: once in the container's mount namespace, /proc is the container's
 * and no longer shows PID. The pid namespace applies to our children only,
 * which is where the command runs.
 */
static void join_container(long pid)
{
	static const struct { const char *name; int type; } kinds[] = {
		{ "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET },
		{ "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS },
	};
	int fds[sizeof kinds / sizeof *kinds];
	char path[64];
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
		snprintf(path, sizeof path, "/proc/%ld/ns/%s", pid, kinds[i].name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			fail("join-container", "open the container's namespaces (is it running?)", errno);
	}
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
		if (setns(fds[i], kinds[i].type) < 0)
			fail("join-container", "join the container's namespaces", errno);
		close(fds[i]);
	}
}

/* ---- arguments and the main sequence ------------------------------------ */

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
 * PID 1's command line is readable inside the container, and ours holds
 * host paths: this binary's and the rootfs under berth's root. Keep copies
 * of what is still needed, then rewrite it in place to "berth-init ID":
 * the container id is all the supervisor needs to find an init that a
 * crash left behind.
 */
static void hide_host_paths(int argc, char **argv, struct options *o)
{
	o->rootfs = keep(o->rootfs);
	o->user = keep(o->user);
	o->cwd = keep(o->cwd);
	o->id = keep(o->id);
	for (int i = 0; i < o->nmask; i++)
		o->mask[i] = keep(o->mask[i]);
	for (int i = 0; i < o->nro; i++)
		o->ro[i] = keep(o->ro[i]);
	int n = 0;
	while (o->argv[n])
		n++;
	char **cmd = calloc((size_t)n + 1, sizeof *cmd);
	if (!cmd)
		fail("parse-arguments", "copy the arguments", ENOMEM);
	for (int i = 0; i < n; i++)
		cmd[i] = (char *)keep(o->argv[i]);
	o->argv = cmd;
	/* The kernel lays the arguments out back to back: one region to rewrite. */
	char *start = argv[0];
	size_t room = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) - start);
	memset(start, 0, room);
	static const char name[] = "berth-init";
	if (sizeof name <= room)
		memcpy(start, name, sizeof name);
	if (o->id && sizeof name + strlen(o->id) <= room)
		memcpy(start + sizeof name, o->id, strlen(o->id));
}

static void parse_args(int argc, char **argv, struct options *o)
{
	o->caps = DOCKER_CAPS;
	o->no_new_privs = 1;
	o->cwd = "/";
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
		if (strcmp(a, "--no-new-privs") == 0 || strcmp(a, "--allow-new-privs") == 0) {
			o->no_new_privs = a[2] == 'n';
			continue;
		}
		if (strcmp(a, "--init") == 0)
			continue; /* always tini-like; accepted for Docker parity */
		if (strcmp(a, "--tty") == 0) {
			o->tty = 1;
			continue;
		}
		if (!v)
			fail("parse-arguments", "parse arguments (missing value or unknown option)", EINVAL);
		i++;
		if (strcmp(a, "--rootfs") == 0)
			o->rootfs = v;
		else if (strcmp(a, "--id") == 0)
			o->id = v;
		else if (strcmp(a, "--user") == 0)
			o->user = v;
		else if (strcmp(a, "--cwd") == 0)
			o->cwd = v;
		else if (strcmp(a, "--exec-in") == 0) {
			char *end;
			o->exec_in = strtol(v, &end, 10);
			if (*end || o->exec_in <= 0)
				fail("parse-arguments", "parse --exec-in", EINVAL);
		}
		else if (strcmp(a, "--mask") == 0 && o->nmask < MAX_PATHS)
			o->mask[o->nmask++] = v;
		else if (strcmp(a, "--ro") == 0 && o->nro < MAX_PATHS)
			o->ro[o->nro++] = v;
		else if (strcmp(a, "--caps") == 0) {
			char *end;
			errno = 0;
			o->caps = strtoull(v, &end, 16);
			if (errno || *end || end == v)
				fail("parse-arguments", "parse --caps", EINVAL);
		} else
			fail("parse-arguments", "parse arguments (unknown option or too many paths)", EINVAL);
	}
	if (i + 1 >= argc || (!o->exec_in && (!o->rootfs || o->rootfs[0] != '/')) || o->cwd[0] != '/')
		fail("parse-arguments", "parse arguments (need --rootfs ABS or --exec-in PID, then -- CMD)", EINVAL);
	o->argv = argv + i + 1;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	if (fcntl(4, F_GETFD) >= 0) {
		status_fd = 4;
		fcntl(4, F_SETFD, FD_CLOEXEC);
	}
	/* The exit pipe stays open in the init only, never in the command. */
	if (fcntl(5, F_GETFD) >= 0)
		fcntl(5, F_SETFD, FD_CLOEXEC);
	if (syscall(SYS_close_range, 7U, ~0U, 0U) < 0) {
		for (int fd = 7; fd < 1024; fd++)
			close(fd);
	}
	parse_args(argc, argv, &o);
	hide_host_paths(argc, argv, &o);
	/* fd 6 is the window size file of a --tty container, and nothing otherwise. */
	if (o.tty && fcntl(6, F_GETFD) >= 0) {
		winsize_fd = 6;
		fcntl(6, F_SETFD, FD_CLOEXEC);
	} else {
		close(6);
	}

	/* Wait until the supervisor has put us in our cgroup. */
	char go;
	ssize_t n;
	while ((n = read(3, &go, 1)) < 0 && errno == EINTR)
		;
	if (n == 0)
		_exit(1);
	if (n < 0)
		fail("wait-go", "read the go pipe", errno);
	close(3);

	if (o.exec_in) {
		join_container(o.exec_in);
	} else {
		int root = open(o.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			fail("open-rootfs", "open the rootfs", errno);
		mount_proc(root);
		mask_paths(root, &o);
		readonly_paths(root, &o);
		pivot(root);
		close(root);
		make_cwd(o.cwd);
	}
	if (o.readonly_rootfs && !o.exec_in) {
		/* Only the root mount: volumes keep their own mode, as in Docker. */
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
		if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof attr) < 0)
			fail("readonly-rootfs", "make the rootfs read-only", errno);
	}
	struct creds c = { 0 };
	resolve_user(o.user ? o.user : "0:0", &c);
	struct terminal tty = { .master = -1, .slave = -1 };
	if (o.tty)
		open_terminal(&c, &tty);
	drop_privileges(&o, &c);
	if (chdir(o.cwd) < 0)
		fail("chdir", "chdir to the working directory", errno);
	run(o.argv, o.tty ? &tty : NULL, !o.exec_in);
}
