/* engine/graph_chains.h: independent chains of nodes that a batch-1 pass runs side by side,
 * one thread each (CPU backend).
 *
 * At batch 1 (SynFlow) a node is too small to split well over threads: a DARTS 8-cell pass is
 * 1,400 convolutions of 16 to 64 channels on 8x8 to 32x32 planes. But a supernet's ops are
 * independent: each op of an edge is a chain of nodes (sep conv: depthwise, 1x1, BN, ReLU,
 * depthwise, 1x1, BN) from a state to the mix. A section is a run of nodes, in node order,
 * that splits into chains: a chain starts with a node whose inputs were all made before the
 * section, and goes on with nodes whose one input is the output of the chain's last node and
 * is read by nothing else. A node that fits neither ends the section and starts the next.
 *
 * A pass runs a section of two or more chains as a parallel loop over its chains, each chain
 * in order on one thread with the kernels' own threading inactive (graph_exec.c). Forward, a
 * chain writes only its own tensors. Backward runs every chain but its first node in
 * parallel (each writes only gradients inside its chain and its nodes' own d params), then the
 * first nodes one after another in reverse node order, as a sequential pass does: they are
 * the only writers of gradients that several chains share, and of d alpha (mixes share alpha
 * across cells). So every gradient is summed in the sequential order, and every kernel gives
 * the same bits on one thread as on many: results are bit-identical to the sequential pass's.
 *
 * A section runs so only where its heaviest chain is at most 60 % of its work
 * (graph_chains_parallel), on two threads or more, outside any parallel region (bundle
 * slots) and without a backward hook (engine/exec_cpu.h: exec_chains_ok); else one node after
 * another, each kernel on every thread.
 *
 * The memory planner (graph_plan) keeps every tensor a parallel section frees alive until
 * the section ends, forward and backward, so chains never share memory; a sectioned layout
 * is also valid for a sequential pass. Each thread has its own conv workspace. Sections are
 * found, and every layout planned for them, for CPU executors of batch-1 graphs in which no
 * parameter is read by two nodes, made with two threads or more outside any parallel region
 * (on one thread, or in a bundle slot, the longer lives only cost cache: 1 to 7 % of a DARTS
 * SynFlow search); FREENAS_CHAINS=0 turns them off (A/B runs, tests). */
#ifndef FN_GRAPH_CHAINS_H
#define FN_GRAPH_CHAINS_H

#include "engine/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Threads a section runs on at most (its sections have up to 17 chains: DARTS's 8 ops on
 * the edges from two states, and a pool's BN); each has a conv workspace of its own. */
#define FN_CHAIN_THREADS 16

typedef struct {
    int nsec;        /* parallel sections (two or more chains each) */
    int *sec_lo;     /* [nsec] nodes of section s: sec_lo[s] <= i < sec_hi[s], consecutive */
    int *sec_hi;     /* [nsec] */
    int *sec_chain;  /* [nsec + 1] chains of section s: sec_chain[s] <= c < sec_chain[s + 1] */
    int nchains;
    int *chain_off;  /* [nchains + 1] nodes of chain c, in order: chain_node[chain_off[c]] .. */
    int *chain_node; /* [nodes in sections] */
    int *node_sec;   /* [nn] the parallel section of node i, or -1 */
    unsigned char *first; /* [nn] 1: node i starts a chain (backward runs it after the
                             section's chains, one node after another) */
    double *sec_work;    /* [nsec] rough cost of the section's forward (multiply-adds and
                            memory-bound elements) */
    double *sec_maxwork; /* [nsec] that of its heaviest chain */
} fn_chains;

/* 1 when section s should run its chains side by side on `threads` threads: its heaviest
 * chain is not most of it (NB201's 3x3 conv chains beside their 1x1 ones run faster as one
 * conv at a time, each on every thread). */
int graph_chains_parallel(const fn_chains *c, int s, int threads);

/* Finds g's parallel sections; returns how many (0: nothing to run side by side, c empty). */
int graph_chains_find(const fn_graph *g, fn_chains *c);
void graph_chains_free(fn_chains *c);

/* Run-time switch, read from FREENAS_CHAINS (default on) when an executor is first made;
 * graph_chains_switch: -1 not yet read, 0 off, 1 on (tests and benchmarks may set it before
 * exec_init; each executor keeps what it found). */
extern int graph_chains_switch;
int graph_chains_enabled(void);

#ifdef __cplusplus
}
#endif

#endif
