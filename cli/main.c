/* kizashi command-line entry point: dispatches to cmd_<verb>.c. The only code that prints/exits. */
#include "kizashi/kizashi.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "version") == 0) {
        printf("kizashi %s\n", kz_version());
        return 0;
    }
    fprintf(stderr, "usage: kizashi <command> [options]\n");
    return 2;
}
