/* `kizashi model info FILE.kzm`: check a model bundle (every load check runs) and print its
 * metadata as JSON: data range, features, label config, split, scaler, parameters, metrics. */
#include <stdio.h>
#include <string.h>

#include "kizashi/model.h"

#include "cli.h"

static const char USAGE[] =
    "usage: kizashi model info FILE.kzm\n"
    "\n"
    "Load a model bundle with every check (magic, format version, checksum, metadata, booster)\n"
    "and print its metadata as JSON; exit 1 with the reason if the file is damaged.\n";

int cmd_model(cli_ctx *ctx, int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(USAGE, stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "info") != 0) {
        return cli_usage_error(USAGE, "expected 'model info FILE'");
    }
    int n_pos = 0;
    int rc = cli_parse(ctx, argc - 1, argv + 1, NULL, 0, USAGE, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (n_pos != 1) {
        return cli_usage_error(USAGE, "expected one model file");
    }
    const char *path = argv[2];
    kz_model *m = NULL;
    kz_error err;
    char buf[1024];
    if (kz_model_load(path, &m, &err) != KZ_OK) {
        cli_error("model info", "%s", kz_error_format(&err, buf, sizeof buf));
        return CLI_EXIT_RUNTIME;
    }
    char *json = NULL;
    if (kz_model_info_json(m, &json) != KZ_OK) {
        cli_error("model info", "out of memory");
        kz_model_free(m);
        return CLI_EXIT_RUNTIME;
    }
    printf("%s\n", json);
    kz_free(json);
    kz_model_free(m);
    return CLI_EXIT_OK;
}
