/* cmd.h — build one Redis command in argv form without copying big values.
 *
 * Pieces added with cmd_add are borrowed and must live until cmd_send;
 * hiredis copies the whole command when it is sent, so a batch can build,
 * send and reuse one cmd per command. */
#ifndef NUDGED_CMD_H
#define NUDGED_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "rconn.h"

struct cmd {
    const char **argv; /* borrowed pieces; owned ones are set at send */
    size_t *lens;
    size_t *off; /* an owned piece's offset in ARENA, or CMD_BORROWED */
    size_t n, cap;
    char *arena; /* every owned piece, back to back: one allocation
                    for the command instead of one per argument */
    size_t used, size;
    char *wire; /* the command in the Redis protocol, reused */
    size_t wire_size;
};

#define CMD_BORROWED ((size_t)-1)

void cmd_init(struct cmd *c);
/* Adds a borrowed piece of LEN bytes. */
void cmd_add(struct cmd *c, const char *p, size_t len);
/* Adds a borrowed NUL-terminated string. */
void cmd_adds(struct cmd *c, const char *s);
/* Adds the N borrowed NUL-terminated strings ARGV. */
void cmd_addsv(struct cmd *c, const char *const *argv, size_t n);
/* Adds an owned decimal number. */
void cmd_addi(struct cmd *c, int64_t v);
/* Adds an owned copy of LEN bytes (binary safe). */
void cmd_addcopy(struct cmd *c, const void *p, size_t len);
/* Adds an owned copy of the NUL-terminated string S. */
void cmd_addscopy(struct cmd *c, const char *s);
/* Adds an owned piece: the N strings PARTS joined (no printf: hot path). */
void cmd_addcat(struct cmd *c, const char *const *parts, size_t n);
/* Adds an owned printf-formatted piece. */
void cmd_addf(struct cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends the command on RC; returns rconn_send's result. */
int cmd_send(struct cmd *c, struct rconn *rc, redisCallbackFn *fn, void *priv) __attribute__((warn_unused_result));
/* The command in the Redis protocol, in a copy the caller frees; *LEN
 * gets its length (rchain.h keeps commands to send later). */
char *cmd_wire_copy(struct cmd *c, size_t *len);
/* Replaces argument I (added by cmd_addi) with V: a count known only after
 * the arguments it counts were added. */
void cmd_set_int(struct cmd *c, size_t i, int64_t v);

/* Empties C for the next command (keeps its arrays). */
void cmd_reset(struct cmd *c);
void cmd_free(struct cmd *c);

#endif
