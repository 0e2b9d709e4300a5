/* Registry group table placeholder: replaced by the group's indicator file. */
#include "ta_int.h"

const kz_ta_info *const kz_ta_volatility_table = NULL;
const size_t kz_ta_volatility_count = 0;
