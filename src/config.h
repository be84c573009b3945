/*
 * config.h — the configuration table: file parsing, command-line options,
 * CONFIG GET/SET/RESETSTAT/REWRITE.
 */
#ifndef RC_CONFIG_H
#define RC_CONFIG_H

#include <stddef.h>

/* Set defaults into `server`. */
void config_init_defaults(void);

/* Parse redis-server style arguments (config file, --name value ...).
 * Exits the process with a message on a bad directive, as Redis does. */
void config_load_argv(int argc, char **argv);

/* Apply one directive (name + args).  Returns NULL on success or a static
 * error description. */
const char *config_apply(const char *name, int argc, char **argv, int from_file);

void config_free_all(void);

/* Print every known directive with its default, one per line (used by the
 * test that checks conf/ringcache.conf against the table). */
void config_print_defaults(void);

#endif
