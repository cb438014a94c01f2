/* Criterion's logging.h for ThreadSanitizer builds: cr_log_info and
 * cr_log_warn come with the shim's criterion.h. */
#ifndef SYNCMARK_TSAN_SHIM_CRITERION_LOGGING_H
#define SYNCMARK_TSAN_SHIM_CRITERION_LOGGING_H
#include "criterion.h"
#endif
