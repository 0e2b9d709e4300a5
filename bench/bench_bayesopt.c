/* Benchmark of the GP Bayesian optimiser: Branin and Hartmann-6 over 10 seeds, best value after
 * 50 and 100 evaluations and ms per iteration, against scikit-optimize's figures from issue 8.
 * Usage: bench_bayesopt [n_seeds] (default 10). The same table as `kizashi optimize bench`. */
#include <stdio.h>
#include <stdlib.h>

#include "kizashi/optim.h"

static void progress(kz_log_level level, const char *msg, void *ud)
{
    (void)level;
    (void)ud;
    fprintf(stderr, "  %s\n", msg);
}

int main(int argc, char **argv)
{
    kz_bo_bench_params p = kz_bo_bench_params_default();
    if (argc > 1) {
        p.n_seeds = (size_t)strtoul(argv[1], NULL, 10);
    }
    p.progress = progress;
    kz_bo_bench_row rows[2];
    kz_status st = kz_bo_bench_run(&p, rows);
    if (st != KZ_OK) {
        fprintf(stderr, "bench_bayesopt: %s\n", kz_status_str(st));
        return 1;
    }
    size_t need = kz_bo_bench_format(&p, rows, 2, NULL, 0) + 1;
    char *text = malloc(need);
    if (!text) {
        return 1;
    }
    kz_bo_bench_format(&p, rows, 2, text, need);
    fputs(text, stdout);
    free(text);
    return 0;
}
