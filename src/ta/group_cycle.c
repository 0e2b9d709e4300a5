/* Registry group table placeholder: replaced by the group's indicator file. */
#include "ta_int.h"

const kz_ta_info *const kz_ta_cycle_table = NULL;
const size_t kz_ta_cycle_count = 0;
