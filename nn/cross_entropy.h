/* nn/cross_entropy.h: softmax cross-entropy, mean over the batch (PyTorch's default).
 * forward returns L = (1/n) sum_i [logsumexp(z_i) - z_i[y_i]];
 * backward writes (=, not +=) dlogits = dL * (softmax(z) - onehot(y)) / n;
 * backward_tangent writes the directional derivative of dlogits along tlogits (z -> z + t tz):
 * dL * (p * tz - p <p, tz>) / n with p = softmax(z) (the labels drop out). */
#ifndef FN_CROSS_ENTROPY_H
#define FN_CROSS_ENTROPY_H

#define FN_XENT_DECL(T, S)                                                                \
    double cross_entropy_forward_##S(const T *logits, const int *labels, int n, int k);    \
    void cross_entropy_backward_##S(T *dlogits, const T *logits, const int *labels, int n,  \
                                    int k, double dloss);                                  \
    void cross_entropy_backward_tangent_##S(T *tdlogits, const T *logits, const T *tlogits,  \
                                            int n, int k, double dloss);
FN_XENT_DECL(float, f32)
FN_XENT_DECL(double, f64)

#endif
