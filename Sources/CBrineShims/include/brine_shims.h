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

/// Starts `argv` detached from this process (new session, stdin/stdout/
/// stderr on /dev/null): how `-d` daemonizes without forking a process that
/// already runs threads. Returns the child's pid, or -1 with errno set.
int brine_spawn_detached(const char *path, char *const argv[], char *const envp[]);

/// fork + (setsid) + setgroups/setgid/setuid + execve, all async-signal-safe
/// in the child: starts a daemon that never holds root, even on threads.
/// With `detach`, stdio goes to /dev/null and the child leads a new session.
int brine_spawn_as_user(const char *path, char *const argv[], char *const envp[], unsigned uid, unsigned gid, int detach);

/// PAM authentication (pam_authenticate, then pam_acct_mgmt) of USER with
/// PASSWORD through SERVICE, libpam loaded with dlopen so that Brine needs
/// neither libpam's headers to build nor libpam to run. Returns PAM's code
/// (0: success), or -1 when libpam cannot be loaded.
int brine_pam_authenticate(const char *service, const char *user, const char *password);

#endif
