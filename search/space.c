/* search/space.c: the search-space registry (see search/space.h). */
#include "search/space.h"

#include <string.h>

static const fn_space *const space_table[] = {&fn_space_nb201, &fn_space_darts,
                                              &fn_space_nb1shot1};
#define N_SPACES (int)(sizeof space_table / sizeof space_table[0])

const fn_space *space_find(const char *name) {
    for (int i = 0; i < N_SPACES; i++)
        if (name && strcmp(space_table[i]->name, name) == 0) return space_table[i];
    return NULL;
}

const char *space_names(void) { return "nb201, darts, nb1shot1"; }

int space_layout(const fn_search_config *cfg, int *rows, int *cols) {
    const fn_space *sp = space_find(cfg->space);
    *rows = *cols = 0;
    if (!sp || sp->layout(cfg, rows, cols) || (long)*rows * *cols > FN_MAX_ALPHA) {
        *rows = *cols = 0;
        return -1;
    }
    return 0;
}
