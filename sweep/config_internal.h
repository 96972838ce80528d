/* sweep/config_internal.h: what sweep/config.c (document, top level, entry points) and
 * sweep/config_sections.c (grid, zip, exclude, ensembles) share; not part of the public API
 * (sweep/config.h). The parse context, the YAML node accessors, and the helpers for error
 * reporting at FILE:LINE:COL, type conversion, mapping checks and did-you-mean suggestions.
 * Every function that reports an error returns -1 (or NULL) with the message in cfg_ctx.err. */
#ifndef FN_SWEEP_CONFIG_INTERNAL_H
#define FN_SWEEP_CONFIG_INTERNAL_H

#include <stddef.h>
#include <yaml.h>

#include "search/space.h"
#include "sweep/config.h"

typedef struct {
    const char *path;
    yaml_document_t *doc;
    sweep_config *c;
    char *err;
    size_t errlen;
    int vcap; /* capacity of c->variants */
} cfg_ctx;

extern const char *const cfg_top_keys;      /* the top-level keys, ", "-separated */
extern const char *const cfg_type_names[4]; /* "a name", ... by sweep_type, for messages */

#define CFG_PAIRS(n) \
    for (yaml_node_pair_t *p = (n)->data.mapping.pairs.start; p < (n)->data.mapping.pairs.top; p++)
#define CFG_KEY(x, p) yaml_document_get_node((x)->doc, (p)->key)
#define CFG_VAL(x, p) yaml_document_get_node((x)->doc, (p)->value)
#define CFG_NITEMS(n) ((int)((n)->data.sequence.items.top - (n)->data.sequence.items.start))
#define CFG_ITEM(x, n, i) yaml_document_get_node((x)->doc, (n)->data.sequence.items.start[i])

/* ---- messages (sweep/config.c) ------------------------------------------------------------- */
static inline sweep_mark cfg_mark_of(const yaml_node_t *n) { /* NULL: 1:1 */
    return n ? (sweep_mark){(int)n->start_mark.line + 1, (int)n->start_mark.column + 1}
             : (sweep_mark){1, 1};
}
static inline const char *cfg_text(const yaml_node_t *n) {
    return (const char *)n->data.scalar.value;
}

/* "PATH:LINE:COL: message", or "PATH: message" for a mark 0:0 (the command line). -1. */
int cfg_fail_at(const char *path, sweep_mark m, char *err, size_t errlen, const char *fmt, ...);
/* Error at the mark of node n (NULL: 1:1). */
#define cfg_fail(x, n, ...) cfg_fail_at((x)->path, cfg_mark_of(n), (x)->err, (x)->errlen, __VA_ARGS__)

/* What a node is, for "got ..." in messages (buf: room for a quoted scalar). */
const char *cfg_found(const yaml_node_t *n, char *buf, size_t len);
/* The closest name of a ", "-separated list into out; returns its edit distance. */
int cfg_closest(const char *word, const char *list, char *out, size_t outlen);
/* "did you mean 'Y'?" else "known keys: LIST"; with `known`: "known: LIST" (+ did-you-mean). */
const char *cfg_suggest(const char *word, const char *list, int known, char *buf, size_t len);
/* Key names: mode 0 the grid keys, 1 all but kind (exclude), 2 also not space, ss (over). */
const char *cfg_key_list(int mode, char *buf, size_t len);

/* ---- scalars (sweep/config.c) -------------------------------------------------------------- */
/* s as type t into *out; -1 if it is not one. STR always converts. */
int cfg_convert(sweep_type t, const char *s, double *out);
/* A scalar of type t for `key` into *num (may be NULL); STR: a non-empty scalar. */
int cfg_want(cfg_ctx *x, const yaml_node_t *n, const char *key, sweep_type t, const char *hint,
             double *num);

/* ---- mappings and sections (sweep/config_sections.c) --------------------------------------- */
/* n must be a mapping (of `what`) with scalar keys, each once. */
int cfg_check_map(cfg_ctx *x, const yaml_node_t *n, const char *what);
/* Appends a variant of sp to x->c (ss 0: 1 for nb1shot1, else 0); its index, or -1. */
int cfg_append_variant(cfg_ctx *x, const fn_space *sp, int cells, int channels, int ss,
                       const yaml_node_t *entry);
int cfg_parse_grid(cfg_ctx *x, const yaml_node_t *g);
int cfg_parse_zip(cfg_ctx *x, const yaml_node_t *z);
int cfg_parse_exclude(cfg_ctx *x, const yaml_node_t *e);
int cfg_parse_ensembles(cfg_ctx *x, const yaml_node_t *e);
/* `darts_hnas:` (sweep/config_darts_hnas.c) */
int cfg_parse_darts_hnas(cfg_ctx *x, const yaml_node_t *n);
int cfg_check_darts_hnas(const sweep_config *c, char *err, size_t errlen);

#endif
