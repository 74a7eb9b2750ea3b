/* lrpx — command-line entry point: dispatch to the subcommands. */
#include <string.h>

#include "cli.h"

static const char main_help[] =
    "usage: lrpx COMMAND [ARGS]\n"
    "\n"
    "Run ONNX models and explain their predictions with layer-wise relevance\n"
    "propagation.\n"
    "\n"
    "commands:\n"
    "  info MODEL            inputs, outputs, operators, support\n"
    "  run MODEL INPUT       forward pass, top classes, outputs as .npy\n"
    "  bench MODEL INPUT     time the forward pass (and an explanation)\n"
    "  explain MODEL INPUT   relevance map (LRP) of a prediction, per-layer report\n"
    "  gradient MODEL INPUT  gradient (or gradient x input) of a prediction\n"
    "  preprocess IMAGE...   the tensor a model receives for images, as .npy\n"
    "  eval MODEL INPUT...   score explanations with Quantus's metrics\n"
    "  check MODEL --spec F  CI gate: the model and its explanations against a spec\n"
    "\n"
    "'lrpx COMMAND --help' describes each command.\n";

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
    {"info", cmd_info},
    {"run",  cmd_run},
    {"bench", cmd_bench},
    {"explain", cmd_explain},
    {"gradient", cmd_gradient},
    {"preprocess", cmd_preprocess},
    {"eval", cmd_eval},
    {"check", cmd_check},
};

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_help, stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(main_help, stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        puts("lrpx 0.1.0");
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "lrpx: unknown command '%s'\n\n", argv[1]);
    fputs(main_help, stderr);
    return CLI_USAGE;
}
