/*
 * t_sort.h — SORT and SORT_RO (t_sort.c).
 */
#ifndef RC_T_SORT_H
#define RC_T_SORT_H

#include "command.h"

/* The keys of a SORT or SORT_RO invocation, as Redis's sortGetKeys() and
 * sortROGetKeys() find them: the sorted key, and for SORT the last STORE
 * destination.  Fills out[0..max) and returns how many there are. */
int sort_find_keys(const struct command *cmd, int argc, const struct slice *argv,
                   struct key_ref *out, int max);

#endif
