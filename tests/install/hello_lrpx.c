/* A program built against an installed lrpx through pkg-config
 * (tests/check_install.sh):
 *
 *     cc hello_lrpx.c $(pkg-config --cflags --libs lrpx) -o hello_lrpx
 *     ./hello_lrpx MODEL.onnx X.npy
 *
 * It loads the model, explains the input with the default composite and
 * prints the version, the class, the logit and the relevance sum. */
#include <stdio.h>

#include <lrpx.h>

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: hello_lrpx MODEL.onnx X.npy\n");
        return 2;
    }
    if (lrpx_version_number() != LRPX_VERSION_NUMBER) {
        fprintf(stderr, "header %d, library %s\n", LRPX_VERSION_NUMBER, lrpx_version());
        return 1;
    }
    char          err[512];
    lrpx_model   *m = NULL;
    lrpx_session *s = NULL;
    lrpx_npy     *x = NULL;
    int           rc = 1;
    if (lrpx_model_load_file(argv[1], NULL, &m) != LRPX_OK) {
        fprintf(stderr, "%s\n", lrpx_model_errmsg(m));
        goto done;
    }
    if (lrpx_npy_read(argv[2], &x, err, sizeof err) != LRPX_OK) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    lrpx_tensor_view        r;
    int64_t                 cls;
    double                  logit, sum = 0.0;
    if (lrpx_session_init(m, &s) != LRPX_OK ||
        lrpx_session_set_input(s, NULL, x->dtype, x->rank, x->dims, x->data) != LRPX_OK ||
        lrpx_session_explain(s, &o) != LRPX_OK || lrpx_session_relevance(s, NULL, &r) != LRPX_OK ||
        lrpx_session_explained_output(s, 0, &cls, &logit) != LRPX_OK) {
        fprintf(stderr, "%s\n", s ? lrpx_session_errmsg(s) : "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < r.n_elems; i++)
        sum += ((const float *)r.data)[i];
    printf("lrpx %s: class %lld logit %.4f relevance sum %.4f\n", lrpx_version(),
           (long long)cls, logit, sum);
    rc = 0;
done:
    lrpx_npy_free(x);
    lrpx_session_free(s);
    lrpx_model_free(m);
    return rc;
}
