/* End-to-end CLI test helpers: run the built `kizashi` in a private temporary directory and keep
 * what it printed (g_out, g_err) for the checks. One directory per test program. */
#ifndef KZ_CLI_TEST_H
#define KZ_CLI_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "kz_test.h"

static char g_dir[256];
static char *g_out, *g_err;

/* A file's whole contents (NUL-terminated, malloc'ed); "" when it cannot be read. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return calloc(1, 1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        buf[0] = '\0';
    }
    fclose(f);
    return buf;
}

/* Run the CLI ($KZ_CLI_OVERRIDE, else the built one) in g_dir; returns its exit code. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    const char *cli = getenv("KZ_CLI_OVERRIDE");
    snprintf(cmd, sizeof cmd, "cd '%s' && env -u KIZASHI_DB '%s' %s >out.txt 2>err.txt", g_dir,
             cli && *cli ? cli : KZ_CLI_PATH, args);
    int st = system(cmd);
    free(g_out);
    free(g_err);
    g_out = slurp(kz_path_in(g_dir, "out.txt"));
    g_err = slurp(kz_path_in(g_dir, "err.txt"));
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Create g_dir (/tmp/kz_<tag>_XXXXXX) and skip, saying why, while `verb` is not in the CLI's
 * dispatch table (its --help fails). */
static void cli_test_begin(const char *tag, const char *verb)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/kz_%s_XXXXXX", tag);
    if (!mkdtemp(g_dir)) {
        KZ_SKIP("cannot create a temporary directory");
    }
    if (run("%s --help", verb) != 0) {
        kz_tmpdir_remove(g_dir);
        KZ_SKIP("'%s' is not in cli/main.c's dispatch table yet (stderr: %.80s)", verb, g_err);
    }
}

/* Remove g_dir (a check) and free the captured output. */
static void cli_test_end(void)
{
    CHECK(kz_tmpdir_remove(g_dir) == 0);
    free(g_out);
    free(g_err);
    g_out = g_err = NULL;
}

#endif
