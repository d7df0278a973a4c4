/*
 * A probe run inside test containers (built static by the tests):
 *   probe euid            prints the effective uid (a setuid copy shows whether setuid works)
 *   probe ptrace-stop PID  PTRACE_ATTACHes to PID, waits until it stops, prints "stopped", and
 *                         holds it stopped until killed: what an attacker does to wedge PID 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "euid") == 0) {
		printf("%u\n", (unsigned)geteuid());
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "ptrace-stop") == 0) {
		pid_t pid = (pid_t)atoi(argv[2]);
		if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0) {
			printf("attach: %s\n", strerror(errno));
			return 1;
		}
		int status;
		if (waitpid(pid, &status, __WALL) < 0 || !WIFSTOPPED(status)) {
			printf("wait: %s\n", strerror(errno));
			return 1;
		}
		printf("stopped\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	fprintf(stderr, "usage: probe euid | probe ptrace-stop PID\n");
	return 2;
}
