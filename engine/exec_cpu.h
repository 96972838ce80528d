/* engine/exec_cpu.h: the CPU backend's passes, compiled once per precision from
 * engine/graph_exec.c (nn/real.h); internal to engine/ (callers use engine/exec.h). */
#ifndef FN_EXEC_CPU_H
#define FN_EXEC_CPU_H

#include "engine/exec.h"

#define FN_EXEC_DECL(S)                                     \
    void graph_forward_##S(fn_exec *e);                     \
    void graph_backward_##S(fn_exec *e, const void *dlogits);
FN_EXEC_DECL(f32)
FN_EXEC_DECL(f64)

#endif
