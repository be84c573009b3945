/*
 * acllog.h — ACL LOG: the recent denials (commands, keys, channels, AUTH),
 * newest first, equal ones within 60 s grouped with a count, as Redis 7.0.
 */
#ifndef RC_ACLLOG_H
#define RC_ACLLOG_H

#include <stddef.h>

struct client;

enum acllog_ctx { ACLLOG_TOPLEVEL, ACLLOG_MULTI, ACLLOG_LUA };

/* Record a denial (acl.h's ACL_DENIED_*) by c.  object is the command's
 * full name, the key or channel, or "AUTH"/"HELLO"; username the user the
 * denial is about (the client's, or the name tried in AUTH). */
void acllog_add(struct client *c, int reason, enum acllog_ctx ctx, const char *object,
                size_t objlen, const char *username);

/* ACL LOG [count | RESET]. */
void acllog_reply(struct client *c, long long count);
void acllog_reset(void);

#endif
