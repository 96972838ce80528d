/* proxies/proxy_params.c: `params`, the number of parameters of the network: every conv and
 * linear weight, the classifier bias and the BN affine weights, as AD's count_parameters and
 * the NB201 table count them (docs/METHOD.md §1.4; 73,306 for the all-`none` CIFAR-10 net). */
#include "proxies/proxy_impl.h"

int proxy_params(fn_proxy_job *j, double *out, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    *out = (double)graph_num_params(j->g);
    return 0;
}
