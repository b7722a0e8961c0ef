// The container side of escapes.bats' "during exec" tests: runs as the container's
// init and watches /proc for the processes `exec` brings into its pid namespace.
//
//   exec_attacker ptrace SECONDS   try to reach the runtime through every new process:
//                                   open /proc/PID/exe, PTRACE_ATTACH; a process whose
//                                   exe is not the container's busybox is the runtime
//                                   between fork and execve. Prints RUNTIME-... on a win.
//   exec_attacker kill SECONDS     SIGKILL every other process the moment it appears.
//
// Prints "ready" once it watches and "scans N" at the end (proof it was busy).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static off_t busybox_size;

// The size of /proc/PID/exe's file, or -1 when it cannot be opened.
static off_t exe_size(int pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    off_t size = fstat(fd, &st) == 0 ? st.st_size : -1;
    close(fd);
    return size;
}

static void try_ptrace(int pid) {
    off_t size = exe_size(pid);
    if (size >= 0 && size != busybox_size) {
        printf("RUNTIME-EXE-OPENED pid %d size %lld\n", pid, (long long)size);
        fflush(stdout);
    }
    if (size == busybox_size) return; // the user's program, after its execve: fair game
    if (ptrace(PTRACE_ATTACH, pid, 0, 0) == 0) {
        // Attached, and it is stopped now. A win only if it still runs the runtime's
        // binary (it may have reached its execve since the check above); either way,
        // let it go.
        int status;
        if (waitpid(pid, &status, __WALL) == pid) {
            // -1: it exited meanwhile (a zombie has no exe): nothing was reached.
            off_t now = exe_size(pid);
            if (now >= 0 && now != busybox_size) {
                printf("RUNTIME-ATTACHED pid %d exe size %lld\n", pid, (long long)now);
                fflush(stdout);
            }
        }
        ptrace(PTRACE_DETACH, pid, 0, 0);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    int killing = strcmp(argv[1], "kill") == 0;
    int seconds = atoi(argv[2]);
    struct stat bb;
    if (stat("/bin/busybox", &bb) != 0) return 3;
    busybox_size = bb.st_size;
    int self = getpid();
    time_t end = time(NULL) + seconds;
    long scans = 0;
    printf("ready\n");
    fflush(stdout);
    while (time(NULL) < end) {
        DIR *d = opendir("/proc");
        if (!d) return 4;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            int pid = atoi(e->d_name);
            if (pid <= 1 || pid == self) continue;
            if (killing) kill(pid, SIGKILL);
            else try_ptrace(pid);
        }
        closedir(d);
        scans++;
    }
    printf("scans %ld\n", scans);
    return 0;
}
