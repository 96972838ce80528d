/* train/checkpoint.h: the trainer's checkpoint and records files (see train/train.h).
 * checkpoint.bin: "FNTRCK01", uint64 run key (recipe and network), uint32 epochs done,
 * uint32 momentum ready, uint64 np, uint64 ns, double w[np], mom[np], run[ns], uint32 records,
 * each int32 epoch + 8 doubles (train_record order), uint64 FNV-1a of everything before.
 * Written to checkpoint.bin.tmp, fsync'd, renamed over checkpoint.bin, directory fsync'd: a
 * kill at any moment leaves the old or the new checkpoint whole. */
#ifndef FN_TRAIN_CHECKPOINT_H
#define FN_TRAIN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "train/core.h"
#include "train/train.h"

int train_ckpt_write(const char *dir, const train_core *c, uint64_t key, int epochs_done,
                     const train_record *rec, char *err, size_t errlen);
/* 1 loaded (c->w, mom, run, *epochs_done, rec[0 .. *epochs_done)), 0 no checkpoint,
 * -1 unreadable, corrupt or of another run (message in err). rec holds room for the
 * recipe's epochs. */
int train_ckpt_read(const char *dir, train_core *c, uint64_t key, int max_epochs,
                    int *epochs_done, train_record *rec, char *err, size_t errlen);
/* records.jsonl from rec[0 .. n), written atomically. */
int train_records_write(const char *dir, const train_record *rec, int n, char *err,
                        size_t errlen);
/* "{"epoch": ..., ...}" of one record */
int train_record_json(const train_record *r, char *buf, size_t len);

#endif
