// Kernel ABI constants for x86-64 Linux (include/uapi/linux/*.h). Values are
// numbers so they can cross to worker threads inside plain-data launch plans.

export const CLONE_FS = 0x0000_0200;
export const CLONE_FILES = 0x0000_0400;
export const CLONE_NEWNS = 0x0002_0000;
export const CLONE_NEWCGROUP = 0x0200_0000;
export const CLONE_NEWUTS = 0x0400_0000;
export const CLONE_NEWIPC = 0x0800_0000;
export const CLONE_NEWUSER = 0x1000_0000;
export const CLONE_NEWPID = 0x2000_0000;
export const CLONE_NEWNET = 0x4000_0000;

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_SYNCHRONOUS = 16;
export const MS_REMOUNT = 32;
export const MS_MANDLOCK = 64;
export const MS_DIRSYNC = 128;
export const MS_NOSYMFOLLOW = 256;
export const MS_NOATIME = 1024;
export const MS_NODIRATIME = 2048;
export const MS_BIND = 4096;
export const MS_MOVE = 8192;
export const MS_REC = 16384;
export const MS_SILENT = 32768;
export const MS_UNBINDABLE = 1 << 17;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
export const MS_RELATIME = 1 << 21;
export const MS_STRICTATIME = 1 << 24;
export const MS_LAZYTIME = 1 << 25;

export const MNT_FORCE = 1;
export const MNT_DETACH = 2;
export const MNT_EXPIRE = 4;
export const UMOUNT_NOFOLLOW = 8;

export const MOUNT_ATTR_RDONLY = 0x0000_0001;
export const MOUNT_ATTR_NOSUID = 0x0000_0002;
export const MOUNT_ATTR_NODEV = 0x0000_0004;
export const MOUNT_ATTR_NOEXEC = 0x0000_0008;
export const MOUNT_ATTR__ATIME = 0x0000_0070;
export const MOUNT_ATTR_RELATIME = 0x0000_0000;
export const MOUNT_ATTR_NOATIME = 0x0000_0010;
export const MOUNT_ATTR_STRICTATIME = 0x0000_0020;
export const MOUNT_ATTR_NODIRATIME = 0x0000_0080;
export const MOUNT_ATTR_IDMAP = 0x0010_0000;
export const MOUNT_ATTR_NOSYMFOLLOW = 0x0020_0000;

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EMPTY_PATH = 0x1000;
export const AT_RECURSIVE = 0x8000;

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;

export const OPEN_TREE_CLONE = 1;
export const OPEN_TREE_CLOEXEC = O_CLOEXEC;

export const MOVE_MOUNT_F_SYMLINKS = 0x01;
export const MOVE_MOUNT_F_AUTOMOUNTS = 0x02;
export const MOVE_MOUNT_F_EMPTY_PATH = 0x04;
export const MOVE_MOUNT_T_SYMLINKS = 0x10;
export const MOVE_MOUNT_T_AUTOMOUNTS = 0x20;
export const MOVE_MOUNT_T_EMPTY_PATH = 0x40;

export const FSOPEN_CLOEXEC = 1;
export const FSMOUNT_CLOEXEC = 1;
export const FSCONFIG_SET_FLAG = 0;
export const FSCONFIG_SET_STRING = 1;
export const FSCONFIG_SET_BINARY = 2;
export const FSCONFIG_SET_PATH = 3;
export const FSCONFIG_SET_PATH_EMPTY = 4;
export const FSCONFIG_SET_FD = 5;
export const FSCONFIG_CMD_CREATE = 6;
export const FSCONFIG_CMD_RECONFIGURE = 7;

export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;
export const RESOLVE_CACHED = 0x20;

export const S_IFMT = 0o170000;
export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFDIR = 0o040000;
export const S_IFBLK = 0o060000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

export const PR_SET_PDEATHSIG = 1;
export const PR_SET_NAME = 15;
export const PR_CAPBSET_READ = 23;
export const PR_CAPBSET_DROP = 24;
export const PR_SET_CHILD_SUBREAPER = 36;
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_GET_NO_NEW_PRIVS = 39;

export const AF_INET = 2;
export const SOCK_DGRAM = 2;
export const SOCK_SEQPACKET = 5;
export const AF_UNIX = 1;
export const SOCK_CLOEXEC = O_CLOEXEC;
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const IFF_UP = 0x1;
/** struct ifreq is 40 bytes on x86-64: a 16-byte name and a 24-byte union. */
export const IFREQ_SIZE = 40;

/** The overlayfs xattr that marks a directory opaque (hides lower layers). */
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

/** fallocate(2) modes: free a range's blocks (the size stays, reads give zeros). */
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;

// bpf(2): cgroup v2 device programs.
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
export const BPF_F_ALLOW_MULTI = 2;
/** memfd_create(2) flags and the seals of fcntl(F_ADD_SEALS) (linux/memfd.h, linux/fcntl.h). */
export const MFD_CLOEXEC = 0x1;
export const MFD_ALLOW_SEALING = 0x2;
export const F_SEAL_SEAL = 0x1;
export const F_SEAL_SHRINK = 0x2;
export const F_SEAL_GROW = 0x4;
export const F_SEAL_WRITE = 0x8;
/**
 * Inode flags through ioctl(2) (linux/fs.h): `_IOR('f', 1, long)` and
 * `_IOW('f', 2, long)`; the kernel reads and writes an int. FS_TOPDIR_FL is
 * chattr's `T`: ext2/3/4's Orlov allocator spreads a marked directory's
 * subdirectories over block groups, as it does the filesystem root's.
 */
export const FS_IOC_GETFLAGS = 0x80086601;
export const FS_IOC_SETFLAGS = 0x40086602;
export const FS_TOPDIR_FL = 0x00020000;
/** poll(2) events (asm-generic/poll.h). A mount table's fd reports a change as POLLPRI | POLLERR. */
export const POLLIN = 0x1;
export const POLLPRI = 0x2;
export const POLLERR = 0x8;
