/* Running the built lrpx program from a test ($LRPX_CLI, set by
 * tests/meson.build) through posix_spawn, in a fresh temporary folder per
 * test: shared by test_cli.c and test_batch_cli.c. */
#ifndef LRPX_CLI_UTIL_H
#define LRPX_CLI_UTIL_H

#include <stdbool.h>
#include <sys/types.h>

#include "lrpx_test.h"

extern char cli_tmp[LRPX_TEST_PATH_MAX];   /* the test's folder            */
extern char out_text[65536];                /* stdout of the last run_cli   */
extern char err_text[65536];                /* stderr of the last run_cli   */

/* Check fixture: make / remove cli_tmp. */
void cli_setup(void);
void cli_teardown(void);

/* Run lrpx with the arguments (NULL-terminated); stdout and stderr are kept
 * in out_text / err_text. Returns the exit status (-1: killed by a
 * signal). */
int  run_cli(const char *first, ...);
/* The same with an argv array (NULL-terminated) and extra environment
 * entries ("NAME=VALUE", NULL-terminated; may be NULL). */
int  run_cli_argv(const char *const *args, const char *const *env);
/* Start lrpx without waiting; stdout/stderr go to files beside cli_tmp's
 * (named by tag). Returns the pid. */
pid_t spawn_cli(const char *const *args, const char *const *env, const char *tag);
/* Wait for a pid from spawn_cli: its exit status (-1: a signal). */
int  wait_cli(pid_t pid);

/* "cli_tmp/name" (a ring of 8 buffers). */
const char *tpath(const char *name);
bool        exists(const char *path);
/* Whole file into buf (NUL-terminated, "" when missing). */
void        slurp(const char *path, char *buf, size_t size);

#endif /* LRPX_CLI_UTIL_H */
