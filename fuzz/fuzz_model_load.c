/* libFuzzer target for the .kzm loader: any bytes must load or fail cleanly, never crash. The
 * checksum gates the parsers; the bounded mutation test in tests/test_model_bundle.c reseals
 * mutated files so the metadata checks run too. */
#include <stddef.h>
#include <stdint.h>

#include "kizashi/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kz_model *m = NULL;
    kz_error err;
    if (kz_model_load_mem(data, size, &m, &err) == KZ_OK) {
        kz_model_free(m);
    }
    return 0;
}
