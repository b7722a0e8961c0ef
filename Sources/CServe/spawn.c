#define _GNU_SOURCE
#include "serve_spawn.h"
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

extern char **environ;

pid_t serve_spawn(const char *path, char *const argv[], int stdin_fd, int stdout_fd, int stderr_fd) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t all, none;
    pid_t pid = -1;
    int rc;

    if ((rc = posix_spawn_file_actions_init(&actions)) != 0) { errno = rc; return -1; }
    if ((rc = posix_spawnattr_init(&attr)) != 0) { posix_spawn_file_actions_destroy(&actions); errno = rc; return -1; }
    // Each given descriptor is 3 or above (the caller's own 0-2 are open), so dup2
    // always copies, and the copy is without FD_CLOEXEC.
    int fds[3] = {stdin_fd, stdout_fd, stderr_fd};
    for (int target = 0; target < 3 && rc == 0; target++) {
        if (fds[target] < 3) { rc = EINVAL; break; }
        rc = posix_spawn_file_actions_adddup2(&actions, fds[target], target);
    }
    if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    sigfillset(&all);
    sigemptyset(&none);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr, &all);
    if (rc == 0) rc = posix_spawnattr_setsigmask(&attr, &none);
    if (rc == 0) rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    if (rc == 0) rc = posix_spawn(&pid, path, &actions, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) { errno = rc; return -1; }
    return pid;
}
