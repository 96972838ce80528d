/* sweep/manifest.h: OUTPUT/manifest.json, what a results directory was made with: the config
 * file's text and its resolved form, command-line overrides, the plan (jobs, fingerprint),
 * git revision, library versions, ranks, hosts, devices. Each start rewrites it and appends
 * the previous one to manifest.history.jsonl; a changed plan fingerprint is reported. */
#ifndef FN_SWEEP_MANIFEST_H
#define FN_SWEEP_MANIFEST_H

#include <stddef.h>

#include "sweep/plan.h"

typedef struct {
    const char *config_text;      /* the YAML as read */
    const char *overrides;        /* "--data X --output Y", "" if none */
    int ranks, threads;
    const char *hosts_json;       /* JSON array text: [{"host": h, "ranks": n}, ...] */
    const char *devices_json;     /* JSON array text, one device string per rank */
    const char *mpi_version;
} manifest_info;

/* The resolved config as JSON text (malloc'ed), also printed by --dry-run. */
char *sweep_config_json(const sweep_config *c, int indent);

/* Compares with DIR/manifest.json if present: *changed = 1 when the plan fingerprint differs
 * (message written to msg), *runs = earlier runs. Moves the old manifest into the history and
 * writes the new one. 0, or -1 with a message. */
int manifest_update(const char *dir, const sweep_config *c, const sweep_plan *p,
                    const manifest_info *mi, int *changed, int *runs, char *msg, size_t msglen,
                    char *err, size_t errlen);

#endif
