/*
 * acl.h — ACL users, their rules and the permission check (Redis 7.0).
 *
 * A user has flags (on/off, nopass, sanitize-payload), SHA-256 password
 * hashes and selectors: the root selector and any number of "(...)"
 * selectors.  A selector allows commands (a bit per command and
 * subcommand, plus a "future commands" bit that only +@all sets, and
 * first-argument exceptions such as +select|0), key patterns with read
 * and/or write permission, and channel patterns.  A command is allowed if
 * any selector allows it whole.
 *
 * acl.c keeps the users and applies rules; acllog.c is ACL LOG;
 * cmd_acl.c the ACL command and aclfile I/O.
 */
#ifndef RC_ACL_H
#define RC_ACL_H

#include <stddef.h>

struct acl_user;
struct command;
struct slice;
struct client;

enum acl_result {
    ACL_OK = 0,
    ACL_DENIED_CMD = 1,
    ACL_DENIED_KEY = 2,
    ACL_DENIED_AUTH = 3,
    ACL_DENIED_CHANNEL = 4,
};

/* Longest rule string, user name or selector accepted: bad input gets an
 * error, not unbounded work. */
#define ACL_MAX_RULE_LEN (64 * 1024)

/* Set up the default user (on nopass ~* &* +@all), then requirepass, then
 * the config file's `user` lines or the aclfile.  Needs the command table.
 * Returns 0, or -1 with a message in err. */
int acl_init(char *err, size_t errlen);
void acl_deinit(void);

/* A config file `user NAME RULES...` line (words without "user"): checked
 * at once (NULL or an error text), applied by acl_init(). */
const char *acl_config_user(int argc, char **argv);

/* CONFIG SET requirepass (and the start-up value): the default user's
 * password, "" for nopass. */
void acl_set_requirepass(const char *pass);

struct acl_user *acl_default_user(void);
struct acl_user *acl_user_find(const char *name, size_t len);
const char *acl_user_name(const struct acl_user *u);
/* The user, or a user with no permissions (RINGNODE ASUSER). */
struct acl_user *acl_user_find_or_nobody(const char *name, size_t len);

/* Nonzero if clients of the default user need no AUTH (on and nopass). */
int acl_default_needs_no_auth(void);

/* Nonzero if the default user is nopass (AUTH <password> is refused). */
int acl_default_needs_no_auth_password(void);

/* Nonzero if name/pass authenticate as an enabled user; *out gets it. */
int acl_authenticate(const struct slice *name, const struct slice *pass,
                     struct acl_user **out);

/* Can u run cmd with argv[0..argc)?  On a denial *errpos is the argv
 * position of the key or channel refused (0 for a command). */
int acl_check(const struct acl_user *u, const struct command *cmd, int argc,
              const struct slice *argv, int *errpos);

/* The check for the client's user (no user, or an internal client:
 * allowed everything). */
int acl_check_client(const struct client *c, const struct command *cmd, int argc,
                     const struct slice *argv, int *errpos);

/* acl_check_client(), and a denial goes to ACL LOG with context ctx
 * (acllog.h's ACLLOG_*). */
int acl_check_and_log(struct client *c, const struct command *cmd, int argc,
                      const struct slice *argv, int ctx, int *errpos);

/* ---- changing users (cmd_acl.c) ---- */

/* ACL SETUSER name op...: all ops or none.  Returns 0, or -1 with the
 * Redis error text (without "-ERR ") in err. */
int acl_setuser(const char *name, size_t namelen, int argc, const struct slice *ops,
                char *err, size_t errlen);

/* Take a user out of the list (NULL if none); then, once the reply is
 * queued, acl_user_dispose() disconnects its clients and frees it. */
struct acl_user *acl_user_detach(const char *name, size_t len);
void acl_user_dispose(struct acl_user *u);

/* Users in name order, for ACL USERS / LIST / SAVE. */
int acl_user_count(void);
struct acl_user *acl_user_at(int i);

/* ACL LIST's description of u after "user NAME "; caller frees. */
char *acl_describe_user(const struct acl_user *u);

/* ACL GETUSER's reply for u. */
void acl_reply_getuser(struct client *c, const struct acl_user *u);

/* Replace every user with those of the aclfile text (ACL LOAD).  Returns
 * 0, or -1 with the accumulated errors in err (the users are unchanged). */
int acl_load_text(const char *path, const char *text, char *err, size_t errlen);

/* ACL LOAD / start-up: acl_load_text() on the file's contents. */
int acl_load_file(const char *path, char *err, size_t errlen);

/* The denial texts of NOPERM errors (verbose 0) and ACL DRYRUN (1). */
void acl_denial_text(char *buf, size_t len, int result, const struct command *cmd,
                     const struct slice *arg, int verbose);

/* EXEC's error for a queued command the user may no longer run. */
void acl_exec_denial_text(char *buf, size_t len, int result);

/* Category names in Redis's order; index for a name or -1. */
int acl_category_count(void);
const char *acl_category_name(int i);
int acl_category_find(const char *name, size_t len);
int acl_command_in_category(const struct command *cmd, int cat);

/* Disconnect the clients authenticated as u (deleted or replaced). */
void acl_kill_clients_of(const struct acl_user *u);

#endif
