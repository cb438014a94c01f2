/* registry.c: the table of registered families, built from registry.h. */
#include "registry.h"

#define SM_FAMILY_ENTRY(name) &sm_family_##name,
const struct sm_family *const sm_families[] = {SM_FAMILIES(SM_FAMILY_ENTRY)};
#undef SM_FAMILY_ENTRY

const size_t sm_nfamilies = sizeof sm_families / sizeof sm_families[0];
