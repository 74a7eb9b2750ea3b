/* No output ever destroys an input: every file a command reads (the model
 * and its external-data files, input arrays and images, the files inside an
 * input folder, rule, seed, colour-map and preprocessing files) is recorded
 * by device and inode, and an output path that resolves to one of them --
 * by any name, through a symbolic or hard link -- is refused. Commands
 * check their output flags before any work, and every writer checks its
 * final path again (names made from a flag, such as OUT_0.png or
 * DIR/<output>.npy). The CLI is single-threaded; the table is per process. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define GUARD_MAX 4096

static struct guard_entry {
    dev_t       dev;
    ino_t       ino;
    const char *what;
} guard[GUARD_MAX];
static int n_guard;

static void
guard_one(const char *path, const char *what)
{
    struct stat sb;
    if (n_guard == GUARD_MAX || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return;
    guard[n_guard++] = (struct guard_entry){sb.st_dev, sb.st_ino, what};
}

void
cli_guard_input(const char *path, const char *what)
{
    struct stat sb;
    if (!path || stat(path, &sb) != 0)
        return;
    if (!S_ISDIR(sb.st_mode)) {
        guard_one(path, what);
        return;
    }
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    char           full[4096];
    while ((e = readdir(d)) != NULL)
        if (snprintf(full, sizeof full, "%s/%s", path, e->d_name) < (int)sizeof full)
            guard_one(full, what);
    closedir(d);
}

void
cli_guard_model(const lrpx_model *m, const char *model_path)
{
    cli_guard_input(model_path, "the model");
    /* the files the model's settings and class names come from */
    char   side[4096];
    size_t l    = strlen(model_path);
    int    keep = (int)(l > 5 && !strcmp(model_path + l - 5, ".onnx") ? l - 5 : l);
    snprintf(side, sizeof side, "%.*s.json", keep, model_path);
    cli_guard_input(side, "the model's class names");
    snprintf(side, sizeof side, "%.*s.preprocess.json", keep, model_path);
    cli_guard_input(side, "the model's preprocessing file");
    if (m)
        for (int i = 1; i < lrpx_model_n_files(m); i++)
            cli_guard_input(lrpx_model_file(m, i), "an external-data file of the model");
}

void
cli_guard_inputs(const struct cli_inputs *in)
{
    for (int i = 0; i < in->n; i++)
        cli_guard_input(in->list[i].path, "an input");
}

int
cli_guard_output(const char *cmd, const char *flag, const char *path)
{
    struct stat sb;
    if (!path || stat(path, &sb) != 0)
        return CLI_OK;           /* a new file cannot be an input */
    for (int i = 0; i < n_guard; i++)
        if (guard[i].dev == sb.st_dev && guard[i].ino == sb.st_ino)
            return cli_usage_error(cmd, "%s %s: that file is %s of this command; refusing to "
                                   "overwrite it (choose another output path)",
                                   flag, path, guard[i].what);
    return CLI_OK;
}

int
cli_guard_outputs(const char *cmd, const char *const *flags_and_paths, int n)
{
    for (int i = 0; i + 1 < 2 * n; i += 2)
        if (cli_guard_output(cmd, flags_and_paths[i], flags_and_paths[i + 1]) != CLI_OK)
            return CLI_USAGE;
    return CLI_OK;
}
