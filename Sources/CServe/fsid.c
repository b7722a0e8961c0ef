#include "serve_fsid.h"
#include <sys/syscall.h>
#include <unistd.h>

int serve_setfsuid(uid_t uid) { return (int)syscall(SYS_setfsuid, uid); }
int serve_setfsgid(gid_t gid) { return (int)syscall(SYS_setfsgid, gid); }
