// Bind sources opened on the host side and attached inside the container from the
// descriptor: a detached copy of a tree (open_tree(OPEN_TREE_CLONE)) is a mount that
// any mount namespace can take (move_mount), whoever can no longer reach its path.
#define _GNU_SOURCE
#include "CLinux.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

int sh_open_tree_at(int dir_fd, const char *path, int recursive) {
    unsigned flags = OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
    if (path[0] == '\0') flags |= AT_EMPTY_PATH;
    return (int)syscall(428 /* open_tree */, dir_fd, path, flags);
}

int sh_move_mount_fd(int tree_fd, int target_fd) {
    return (int)syscall(429 /* move_mount */, tree_fd, "", target_fd, "",
                        MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

#include <sys/xattr.h>

long sh_fgetxattr(int fd, const char *name, void *value, size_t size) {
    return (long)fgetxattr(fd, name, value, size);
}
