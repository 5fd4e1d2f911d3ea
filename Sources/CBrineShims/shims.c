#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <unistd.h>
#include <errno.h>
#include <grp.h>
#include <sys/types.h>
#include "brine_shims.h"

int brine_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int brine_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int brine_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowfd) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowfd);
}

int brine_spawn_detached(const char *path, char *const argv[], char *const envp[]) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    pid_t pid;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    int rc = posix_spawn(&pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) { errno = rc; return -1; }
    return pid;
}

int brine_spawn_as_user(const char *path, char *const argv[], char *const envp[], unsigned uid, unsigned gid, int detach) {
    pid_t pid = fork();
    if (pid != 0) return pid;  /* parent (or -1) */
    if (detach) {
        setsid();
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); if (null > 2) close(null); }
    }
    closefrom(3);  /* nothing of the parent's but stdio */
    gid_t groups[1] = { (gid_t)gid };
    if (setgroups(1, groups) != 0 || setgid((gid_t)gid) != 0 || setuid((uid_t)uid) != 0) _exit(126);
    execve(path, argv, envp);
    _exit(127);
}


/* PAM, by hand: the few declarations of <security/pam_appl.h> used here. */
#include <dlfcn.h>

struct brine_pam_message { int msg_style; const char *msg; };
struct brine_pam_response { char *resp; int resp_retcode; };
struct brine_pam_conv {
    int (*conv)(int, const struct brine_pam_message **, struct brine_pam_response **, void *);
    void *appdata_ptr;
};
enum { BRINE_PAM_PROMPT_ECHO_OFF = 1, BRINE_PAM_PROMPT_ECHO_ON = 2 };

static int brine_pam_converse(int count, const struct brine_pam_message **messages, struct brine_pam_response **responses, void *data) {
    struct brine_pam_response *answers = calloc((size_t)count, sizeof *answers);
    if (answers == NULL) return 5; /* PAM_BUF_ERR */
    for (int i = 0; i < count; i++) {
        int style = messages[i]->msg_style;
        if (style == BRINE_PAM_PROMPT_ECHO_OFF || style == BRINE_PAM_PROMPT_ECHO_ON) answers[i].resp = strdup((const char *)data);
    }
    *responses = answers;
    return 0;
}

int brine_pam_authenticate(const char *service, const char *user, const char *password) {
    void *lib = dlopen("libpam.so.0", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) return -1;
    int (*start)(const char *, const char *, const struct brine_pam_conv *, void **) = (int (*)(const char *, const char *, const struct brine_pam_conv *, void **))dlsym(lib, "pam_start");
    int (*authenticate)(void *, int) = (int (*)(void *, int))dlsym(lib, "pam_authenticate");
    int (*account)(void *, int) = (int (*)(void *, int))dlsym(lib, "pam_acct_mgmt");
    int (*end)(void *, int) = (int (*)(void *, int))dlsym(lib, "pam_end");
    if (start == NULL || authenticate == NULL || account == NULL || end == NULL) { dlclose(lib); return -1; }
    struct brine_pam_conv conversation = { brine_pam_converse, (void *)password };
    void *handle = NULL;
    int rc = start(service, user, &conversation, &handle);
    if (rc == 0) rc = authenticate(handle, 0);
    if (rc == 0) rc = account(handle, 0);
    if (handle != NULL) end(handle, rc);
    dlclose(lib);
    return rc;
}
