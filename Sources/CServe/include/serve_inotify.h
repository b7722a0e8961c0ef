#ifndef SERVE_INOTIFY_H
#define SERVE_INOTIFY_H
#include <sys/inotify.h>

// The inotify calls and masks the service's file-change feed uses (FileChangeFeed):
// Swift's Glibc module does not carry <sys/inotify.h>.
int serve_inotify_open(void);
// Watches the directory PATH (never following a link) for what a sandbox's writes do
// in its upper layer; the watch descriptor, or -1 with errno set.
int serve_inotify_watch(int fd, const char *path);
int serve_inotify_unwatch(int fd, int wd);

#endif
