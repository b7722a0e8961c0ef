#include "serve_inotify.h"

int serve_inotify_open(void) { return inotify_init1(IN_NONBLOCK | IN_CLOEXEC); }

int serve_inotify_watch(int fd, const char *path) {
    return inotify_add_watch(fd, path,
                             IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_MODIFY |
                                 IN_DONT_FOLLOW | IN_ONLYDIR | IN_EXCL_UNLINK);
}

int serve_inotify_unwatch(int fd, int wd) { return inotify_rm_watch(fd, wd); }
