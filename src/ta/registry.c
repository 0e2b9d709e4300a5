/* Indicator registry glue (placeholder until the framework lands). */
#include "ta_int.h"
