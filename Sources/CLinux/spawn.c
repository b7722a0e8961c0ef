// posix_spawn's file action that Swift cannot see (declared under _GNU_SOURCE only).
#define _GNU_SOURCE
#include "CLinux.h"

#include <spawn.h>

int sh_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
