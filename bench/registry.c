/* registry.c: the table of registered families, built from registry.h. */
#include "registry.h"

#include <string.h>

#define SM_FAMILY_ENTRY(name) &sm_family_##name,
const struct sm_family *const sm_families[] = {SM_FAMILIES(SM_FAMILY_ENTRY)};
#undef SM_FAMILY_ENTRY

const size_t sm_nfamilies = SM_COUNT(sm_families);

const struct sm_family *sm_family_find(const char *name) {
  for (size_t i = 0; i < sm_nfamilies; i++)
    if (strcmp(sm_families[i]->name, name) == 0)
      return sm_families[i];
  return NULL;
}
