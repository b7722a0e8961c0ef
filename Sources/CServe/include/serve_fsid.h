#ifndef SERVE_FSID_H
#define SERVE_FSID_H
#include <sys/types.h>

// setfsuid(2) and setfsgid(2) as raw system calls: they change only the calling
// thread's filesystem ids (glibc's wrappers are not in Swift's Glibc module). The
// previous id is returned; the call cannot report failure (check by calling again).
int serve_setfsuid(uid_t uid);
int serve_setfsgid(gid_t gid);

#endif
