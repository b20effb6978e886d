/* config.h — nudged.conf: INI sections, every key from one table, with
 * NUDGED_SECTION_KEY environment overrides and secrets read from *_file. */
#ifndef NUDGED_CONFIG_H
#define NUDGED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errlist.h"

struct writekeys;

#define CONFIG_MAX_RETRIES 32
#define CONFIG_CAP_MAX 100 /* emails in a frequency cap: a profile keeps at most 100 times a list */

struct config {
    /* [redis] */
    char *redis_url, *redis_password_file, *redis_prefix, *redis_stream;
    char *redis_cluster_nodes; /* "": one Redis at redis_url; else a Redis Cluster's seed nodes */
    char *redis_group, *redis_consumer;
    int64_t redis_shards, redis_lease_ms, redis_cache_size, redis_batch, redis_pipeline, redis_claim_idle_ms,
        redis_events_retention_ms;
    /* [http] (listeners arrive with the collector and admin issues) */
    char *http_ingest_listen, *http_admin_listen, *http_write_keys_file;
    char *http_cors_origins, *http_admin_token_file;
    int64_t http_max_backlog;
    bool http_collector_only; /* nudged's own: run the collector and nothing else */
    /* [smtp] */
    char *smtp_url, *smtp_from, *smtp_user, *smtp_password_file, *smtp_tls;
    char *smtp_unsubscribe_url;
    /* [triggers] */
    char *triggers_dir, *triggers_default_timezone, *triggers_frequency_cap, *triggers_top_share;
    int64_t triggers_active_period_ms, triggers_profile_ttl_ms;
    int64_t cap_max, cap_per_ms; /* parsed frequency_cap; 0: no cap */
    uint32_t top_share;          /* parsed top_share, in hundredths of a percent */
    /* [delivery] */
    int64_t delivery_max_inflight, delivery_per_host, delivery_timeout_ms;
    int64_t delivery_shutdown_timeout_ms;
    char *delivery_retry_schedule;
    int64_t retry_ms[CONFIG_MAX_RETRIES]; /* parsed retry_schedule */
    size_t retry_n;
    /* [log] */
    char *log_level, *log_format;

    /* Derived, not keys: the secrets read from the *_files (the admin
     * token NULL when none is set; the write keys NULL when the collector
     * is off: no ingest_listen or no write_keys_file). */
    char *redis_password, *smtp_password, *admin_token;
    struct writekeys *write_keys;
};

/* Loads PATH (NULL: defaults only) into CFG, then applies the environment.
 * Every problem is added to ERRS as "FILE:LINE: message" or
 * "NUDGED_X_Y: message". Returns 0, or -1 when ERRS gained lines.
 * CFG owns its strings; free them with config_free even after -1. */
int config_load(struct config *cfg, const char *path, struct errlist *errs) __attribute__((warn_unused_result));

void config_free(struct config *cfg);

/* Prints every key as "section.key" one a line (for the doc check). */
void config_print_keys(void);

#endif
