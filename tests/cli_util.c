/* Running the built lrpx program from a test: see cli_util.h. */
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_util.h"

extern char **environ;

char cli_tmp[LRPX_TEST_PATH_MAX];
char out_text[65536];
char err_text[65536];

void
cli_setup(void)
{
    lrpx_test_tmpdir(cli_tmp, sizeof cli_tmp);
}

void
cli_teardown(void)
{
    lrpx_test_rmtree(cli_tmp);
}

static const char *
cli_path(void)
{
    const char *p = getenv("LRPX_CLI");
    ck_assert_msg(p && *p, "LRPX_CLI is not set (run the tests with meson test)");
    return p;
}

void
slurp(const char *path, char *buf, size_t size)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n]   = '\0';
    fclose(f);
}

/* The environment for a child: ours without the scheduler variables (a
 * test run inside a Slurm job must not shard), then extra. */
static char **
child_env(const char *const *extra)
{
    static const char *const drop[] = {"SLURM_ARRAY_", "JOB_COMPLETION_INDEX="};
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    for (size_t i = 0; extra && extra[i]; i++)
        n++;
    char **env = calloc(n + 1, sizeof *env);
    ck_assert_ptr_nonnull(env);
    for (size_t i = 0; environ[i]; i++) {
        bool skip = false;
        for (size_t d = 0; d < sizeof drop / sizeof drop[0]; d++)
            skip |= !strncmp(environ[i], drop[d], strlen(drop[d]));
        if (!skip)
            env[k++] = environ[i];
    }
    for (size_t i = 0; extra && extra[i]; i++)
        env[k++] = (char *)extra[i];
    return env;
}

pid_t
spawn_cli(const char *const *args, const char *const *env, const char *tag)
{
    const char *argv[128];
    int         n = 0;
    argv[n++]     = cli_path();
    for (int i = 0; args[i] && n < 127; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char so[LRPX_TEST_PATH_MAX + 32], se[LRPX_TEST_PATH_MAX + 32];
    lrpx_test_snprintf(so, sizeof so, "%s/.stdout%s", cli_tmp, tag);
    lrpx_test_snprintf(se, sizeof se, "%s/.stderr%s", cli_tmp, tag);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, so, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, se, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char **envp = child_env(env);
    pid_t  pid;
    int    rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    ck_assert_msg(rc == 0, "posix_spawn %s: %s", argv[0], strerror(rc));
    return pid;
}

int
wait_cli(pid_t pid)
{
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int
run_cli_argv(const char *const *args, const char *const *env)
{
    int  rc = wait_cli(spawn_cli(args, env, ""));
    char so[LRPX_TEST_PATH_MAX + 32], se[LRPX_TEST_PATH_MAX + 32];
    lrpx_test_snprintf(so, sizeof so, "%s/.stdout", cli_tmp);
    lrpx_test_snprintf(se, sizeof se, "%s/.stderr", cli_tmp);
    slurp(so, out_text, sizeof out_text);
    slurp(se, err_text, sizeof err_text);
    unlink(so);
    unlink(se);
    return rc;
}

int
run_cli(const char *first, ...)
{
    const char *argv[64];
    int         n = 0;
    va_list     ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 63; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return run_cli_argv(argv, NULL);
}

const char *
tpath(const char *name)
{
    static char buf[8][LRPX_TEST_PATH_MAX];
    static int  k;
    k = (k + 1) % 8;
    lrpx_test_snprintf(buf[k], sizeof buf[k], "%s/%s", cli_tmp, name);
    return buf[k];
}

bool
exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}
