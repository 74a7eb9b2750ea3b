/* The lrpx command-line tool: a thin client of include/lrpx.h only. */
#ifndef LRPX_CLI_H
#define LRPX_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "lrpx.h"

/* exit codes */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Report an error on stderr as "lrpx CMD: message" and return CLI_FAIL. */
int  cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for a usage error (bad flags), returning CLI_USAGE. */
int  cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether argv[i] is flag (exact) and, for flags that take a value, fetch
 * it (advancing *i). Returns -1 when the value is missing. */
int  cli_flag_value(int argc, char **argv, int *i, const char *flag, const char **value);
bool cli_parse_int(const char *s, long long *out);
bool cli_parse_double(const char *s, double *out);

/* Load a model, printing the error on failure (NULL then). fold_bn 0 keeps
 * BatchNormalization nodes as they are (--no-fold-batchnorm). */
lrpx_model *cli_load_model(const char *cmd, const char *path, bool allow_unsupported);
lrpx_model *cli_load_model_ex(const char *cmd, const char *path, bool allow_unsupported,
                              bool fold_bn);

/* One named input file for a model. */
struct cli_input {
    const char *name;     /* NULL: the first fed input */
    const char *path;
};

/* Read an input file (.npy, or an image when built with image support)
 * and set it on the session, adding a missing batch dimension. Returns
 * CLI_OK or prints the error. */
int  cli_set_input(const char *cmd, lrpx_session *s, const lrpx_model *m,
                   const struct cli_input *in);

/* Class names from "<model without .onnx>.json" ("class_names": [...]); NULL
 * if none. Free with cli_free_classes. */
char **cli_load_classes(const char *model_path, int *n_classes);
void   cli_free_classes(char **classes, int n);

/* Write a tensor view as .npy; prints the error on failure. */
int  cli_write_npy(const char *cmd, const char *path, const lrpx_tensor_view *v);
/* Print a float tensor as a JSON array (flat) to f. */
void cli_json_floats(FILE *f, const lrpx_tensor_view *v);
void cli_json_string(FILE *f, const char *s);
void cli_print_dims(FILE *f, const int64_t *dims, int rank);

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_gradient(int argc, char **argv);

#endif /* LRPX_CLI_H */
