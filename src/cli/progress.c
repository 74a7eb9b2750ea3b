/* Output habits shared by every command:
 *
 *   --quiet    no progress bar and no notices on stderr (errors stay);
 *   --verbose  timings of the steps on stderr ("lrpx explain: load 12 ms");
 *   a progress bar for work over many items ("explain: images 37/120
 *   [#######.....] 0:04 left") on stderr, only when stderr is a terminal:
 *   nothing in a pipe, a file or a CI log; redrawn at most 10 times a
 *   second and erased when done;
 *   NO_COLOR (https://no-color.org): set to anything non-empty, no colour
 *   escapes at all (the bar is still drawn, in plain characters).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct cli_verbosity cli_verbosity;

static const struct cli_flag verbosity_flags[] = {
    {"--quiet", "-q", NULL, "no progress bar and no notices on stderr", CLI_TRUE,
     .off = offsetof(struct cli_verbosity, quiet)},
    {"--verbose", "-v", NULL, "also print the time each step took (stderr)", CLI_TRUE,
     .off = offsetof(struct cli_verbosity, verbose)},
    {NULL}};

struct cli_flag_group
cli_verbosity_group(void)
{
    return (struct cli_flag_group){verbosity_flags, &cli_verbosity, NULL, "output:", NULL, NULL};
}

double
cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

bool
cli_color(void)
{
    const char *nc = getenv("NO_COLOR");
    return isatty(STDERR_FILENO) && !(nc && nc[0]);
}

void
cli_verbose(const char *cmd, double since, const char *fmt, ...)
{
    if (!cli_verbosity.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lrpx %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    double ms = (cli_now() - since) * 1e3;
    fprintf(stderr, ms < 10 ? " %.2f ms\n" : " %.0f ms\n", ms);
}

void
cli_notice(const char *fmt, ...)
{
    if (cli_verbosity.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

static void
progress_draw(struct cli_progress *p, double now)
{
    enum { WIDTH = 24 };
    int    filled = p->total > 0 ? (int)(WIDTH * p->done / p->total) : 0;
    char   bar[WIDTH + 1];
    double elapsed = now - p->t0;
    memset(bar, '#', (size_t)filled);
    memset(bar + filled, '.', (size_t)(WIDTH - filled));
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r\033[K%s: %s %lld/%lld %s[%.*s%s%s]%s", p->cmd, p->label,
            (long long)p->done, (long long)p->total, p->color ? "\033[32m" : "", filled, bar,
            p->color ? "\033[2m" : "", bar + filled, p->color ? "\033[0m" : "");
    if (p->done > 0 && p->done < p->total) {
        long left = (long)(elapsed / (double)p->done * (double)(p->total - p->done) + 0.5);
        fprintf(stderr, " %ld:%02ld left", left / 60, left % 60);
    }
    fflush(stderr);
    p->last = now;
}

static struct cli_progress *active;    /* the bar on the screen, if any */

void
cli_progress_clear(void)
{
    if (active && active->on) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

void
cli_progress_start(struct cli_progress *p, const char *cmd, const char *label, int64_t total)
{
    memset(p, 0, sizeof *p);
    p->cmd   = cmd;
    p->label = label;
    p->total = total;
    p->t0    = cli_now();
    p->on    = total > 1 && !cli_verbosity.quiet && isatty(STDERR_FILENO);
    p->color = p->on && cli_color();
    if (p->on) {
        active = p;
        progress_draw(p, p->t0);
    }
}

void
cli_progress_step(struct cli_progress *p, int64_t n)
{
    p->done += n;
    double now = cli_now();
    if (p->on && (now - p->last >= 0.1 || p->done >= p->total))
        progress_draw(p, now);
}

void
cli_progress_end(struct cli_progress *p)
{
    cli_progress_clear();
    if (active == p)
        active = NULL;
    p->on = false;
}
