/* kizashi umbrella header: includes every public module and gives the library version. */
#ifndef KIZASHI_H
#define KIZASHI_H

#include "kizashi/core.h"
#include "kizashi/features.h"
#include "kizashi/fetch.h"
#include "kizashi/market.h"
#include "kizashi/model.h"
#include "kizashi/optim.h"
#include "kizashi/sched.h"
#include "kizashi/signals.h"
#include "kizashi/status.h"
#include "kizashi/store.h"
#include "kizashi/strategy.h"
#include "kizashi/ta.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KZ_VERSION_MAJOR 0
#define KZ_VERSION_MINOR 1
#define KZ_VERSION_PATCH 0
#define KZ_VERSION_STRING "0.1.0"

/* Library version string ("0.1.0"); static. */
const char *kz_version(void);

#ifdef __cplusplus
}
#endif
#endif
