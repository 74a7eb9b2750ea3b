/* lrpx — command-line entry point: dispatch to the subcommands. */
#include <dlfcn.h>
#include <string.h>

#include "cli.h"

int cmd_prototype(int argc, char **argv);   /* src/cli/prototype.c */

static const char main_usage[] =
    "usage: lrpx COMMAND [ARGS]\n"
    "       lrpx --version\n"
    "\n"
    "Run ONNX models and explain their predictions with layer-wise relevance\n"
    "propagation.\n";

/* One row per command: the list of lrpx --help, the NAME line of its man
 * page and the dispatch. */
struct command {
    const char *name, *args, *summary;
    int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
    {"info",       "MODEL",       "inputs, outputs, operators, support", cmd_info},
    {"run",        "MODEL INPUT", "forward pass, top classes, outputs as .npy", cmd_run},
    {"bench",      "MODEL INPUT", "time the forward pass (and an explanation)", cmd_bench},
    {"explain",    "MODEL INPUT", "relevance map (LRP) of a prediction, per-layer report",
     cmd_explain},
    {"gradient",   "MODEL INPUT", "gradient (or gradient x input) of a prediction",
     cmd_gradient},
    {"preprocess", "IMAGE...",    "the tensor a model receives for images, as .npy",
     cmd_preprocess},
    {"eval",       "MODEL INPUT...", "score explanations with Quantus's metrics", cmd_eval},
    {"compare",    "--models ...", "every model x method over the same inputs: a report",
     cmd_compare},
    {"check",      "MODEL --spec F", "CI gate: the model and its explanations against a spec",
     cmd_check},
    {"batch",      "MODEL --out DIR", "explain a data set (sharded, resumable)", cmd_batch},
    {"merge",      "DIR... -o OUT", "join the folders of batch shards, summary per class",
     cmd_merge},
    {"spray",      "OUT --class K", "spectral relevance analysis (SpRAy) of a class's maps",
     cmd_spray},
    {"prototype",  "MODEL --class K", "a prototype of a class (activation maximisation)",
     cmd_prototype},
};
#define N_COMMANDS (int)(sizeof commands / sizeof commands[0])

const char *
cli_command_name(int i)
{
    return i >= 0 && i < N_COMMANDS ? commands[i].name : NULL;
}

const char *
cli_command_summary(const char *cmd)
{
    for (int i = 0; cmd && i < N_COMMANDS; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].summary;
    return "run ONNX models and explain their predictions (layer-wise relevance propagation)";
}

static void
print_main_help(FILE *f)
{
    cli_help_usage(f, NULL, main_usage);
    cli_help_section(f, "commands:");
    for (int i = 0; i < N_COMMANDS; i++) {
        char term[64];
        snprintf(term, sizeof term, "%s %s", commands[i].name, commands[i].args);
        cli_help_item(f, term, commands[i].summary, 24);
    }
    cli_help_item(f, "--version", "version, ONNX opsets and optional parts", 24);
    cli_help_text(f, "\n'lrpx COMMAND --help' describes each command.\n");
    cli_help_end(f, NULL);
}

/* The version of the tool and of the library it runs with (they differ
 * when an older liblrpx.so is found first), the ONNX opsets, and the
 * optional parts of the build. */
static int
print_version(void)
{
    int64_t lo, hi;
    lrpx_opset_range(&lo, &hi);
    printf("lrpx %d.%d.%d", LRPX_VERSION_MAJOR, LRPX_VERSION_MINOR, LRPX_VERSION_PATCH);
    if (lrpx_version_number() != LRPX_VERSION_NUMBER)
        printf(" (library %s)", lrpx_version());
    printf("\nONNX opsets %lld to %lld (default domain)\n", (long long)lo, (long long)hi);
    printf("optional parts: %s\n", lrpx_features());
    return CLI_OK;
}

/* OpenBLAS's own thread server (OpenBLAS 0.3: started when the library
 * loads, its workers spinning for a while after start). lrpx calls BLAS
 * serially inside its own threads, so in this program those workers only
 * take turns on the cores with lrpx's and add to its CPU time: `lrpx bench
 * -n 2 --threads 1` on mobilenet_v2 reported 36.6 ms of CPU for 18.4 ms
 * passes with them (OPENBLAS_NUM_THREADS unset, 2 CPUs), the same as the
 * wall time without. Stopped once at start; a BLAS without these entry
 * points (looked up at run time, so nothing else links against them)
 * leaves them alone. Not done by the library: a program embedding it may
 * use OpenBLAS's threads itself. The count goes to 1 first: setting it
 * later would start the server again. */
static void
blas_threads_off(void)
{
    void (*set_threads)(int);
    int (*shutdown)(void);
    /* POSIX's way to turn dlsym's object pointer into a function pointer */
    *(void **)&set_threads = dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
    *(void **)&shutdown    = dlsym(RTLD_DEFAULT, "blas_thread_shutdown_");
    if (set_threads && shutdown) {
        set_threads(1);
        shutdown();
    }
}

int
main(int argc, char **argv)
{
    blas_threads_off();
    if (argc < 2) {
        print_main_help(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        print_main_help(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--help-man")) {
        cli_help_set_man(true);
        print_main_help(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version"))
        return print_version();
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "lrpx: unknown command '%s'\n\n", argv[1]);
    print_main_help(stderr);
    return CLI_USAGE;
}
