#ifndef BRINE_SHIMS_H
#define BRINE_SHIMS_H

#include <spawn.h>

/// GNU extensions the Glibc Swift module does not export (they need
/// _GNU_SOURCE): close-on-exec pipes and chdir in posix_spawn.
int brine_pipe_cloexec(int fds[2]);
int brine_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);
/// Closes every descriptor from `lowfd` up in the child (subprocess's
/// close_fds): a daemon started by a command must not hold our pipes.
int brine_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowfd);

#endif
