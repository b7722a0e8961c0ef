#ifndef SERVE_SPAWN_H
#define SERVE_SPAWN_H
#include <sys/types.h>

// Starts PATH with ARGV (NULL-terminated) and the caller's environment, with the
// descriptors STDIN_FD, STDOUT_FD and STDERR_FD (each 3 or above) as its 0, 1 and 2 and no other descriptor of the caller
// (posix_spawn with closefrom(3)), every signal at its default disposition and none
// blocked. Returns the pid, or -1 with errno set.
//
// Not Foundation's Process: it learns that a child exited from a socket the child
// inherits, so a child that leaves a process of its own running holding that socket
// (the runtime's create and run under gVisor leave runsc's sandbox and gofer) is
// never reaped and never reported as done. The caller waits with waitpid.
pid_t serve_spawn(const char *path, char *const argv[], int stdin_fd, int stdout_fd, int stderr_fd);

#endif
