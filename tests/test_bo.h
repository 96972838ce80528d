/* tests/test_bo.h: the parts of test_bo in tests/test_bo_opt.c (the optimiser checks). */
#ifndef FN_TEST_BO_H
#define FN_TEST_BO_H

void test_bo_maximize(void);
void test_bo_determinism(void);
void test_bo_queue_and_cache(void);

#endif
