/* The retraining verbs end to end through the built CLI: retrain queues a manual job, jobs
 * list/show/cancel read and change the persisted job, models and scheduler status report the
 * registry and the queue, and every error is `error: ...` with exit 1 (runtime) or 2 (usage). */
#include "kz_cli_test.h"

int main(void)
{
    cli_test_begin("sched_cli", "retrain");
    const char *db = "--db k.db";

    CHECK_EQ_INT(run("%s retrain btc", db), 0);
    CHECK_STR_CONTAINS(g_out, "queued job 1: manual retraining of btc");
    CHECK_EQ_INT(run("%s retrain btc", db), 0); /* a second request gets its own id */
    CHECK_STR_CONTAINS(g_out, "queued job 2");

    CHECK_EQ_INT(run("%s jobs list", db), 0);
    CHECK_STR_CONTAINS(g_out, "manual");
    CHECK_STR_CONTAINS(g_out, "pending");
    CHECK_EQ_INT(run("%s jobs show 1", db), 0);
    CHECK_STR_CONTAINS(g_out, "model btc");
    CHECK_STR_CONTAINS(g_out, "status pending");
    CHECK_STR_CONTAINS(g_out, "attempts 1");

    CHECK_EQ_INT(run("%s jobs cancel 1", db), 0);
    CHECK_STR_CONTAINS(g_out, "job 1: cancelled");
    CHECK_EQ_INT(run("%s jobs show 1", db), 0);
    CHECK_STR_CONTAINS(g_out, "status cancelled");
    CHECK_EQ_INT(run("%s jobs cancel 1", db), 1); /* already finished: refused */
    CHECK_STR_CONTAINS(g_err, "error: ");

    CHECK_EQ_INT(run("%s scheduler status", db), 0);
    CHECK_STR_CONTAINS(g_out, "pending 1");
    CHECK_STR_CONTAINS(g_out, "cancelled 1");

    /* Empty registry: the listing has only its header; unknown versions are runtime errors. */
    CHECK_EQ_INT(run("%s models list", db), 0);
    CHECK_STR_CONTAINS(g_out, "name");
    CHECK(strstr(g_out, "btc") == NULL);
    CHECK_EQ_INT(run("%s models promote btc 5", db), 1);
    CHECK_STR_CONTAINS(g_err, "error: models promote");
    CHECK_STR_CONTAINS(g_err, "no version 5");
    CHECK_EQ_INT(run("%s jobs show 99", db), 1);
    CHECK_STR_CONTAINS(g_err, "no job 99");

    /* Usage errors exit 2; --help exits 0 for every verb. */
    CHECK_EQ_INT(run("%s retrain", db), 2);
    CHECK_EQ_INT(run("%s jobs frobnicate", db), 2);
    CHECK_EQ_INT(run("%s jobs show notanumber", db), 2);
    CHECK_EQ_INT(run("%s scheduler run", db), 2); /* --config is required */
    const char *verbs[] = {"retrain", "jobs", "models", "scheduler"};
    for (size_t k = 0; k < sizeof verbs / sizeof verbs[0]; k++) {
        CHECK_EQ_INT(run("%s --help", verbs[k]), 0);
    }
    cli_test_end();
    KZ_TEST_DONE();
}
