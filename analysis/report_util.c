/* analysis/report_util.c: output files, Markdown / CSV / number formatting and dataset names
 * for the freenas_report sections (see report.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "analysis/paper_ref.h"
#include "analysis/report.h"

const char *const report_acc_keys[REPORT_NUM_ACC] = {"cifar10_valid", "cifar10_test",
                                                     "cifar100_test", "imagenet16_test"};
const char *const report_acc_labels[REPORT_NUM_ACC] = {"C10 valid", "C10 test", "C100 test",
                                                       "IN16 test"};

FILE *report_open(report_ctx *c, const char *name) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", c->out_dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "freenas_report: cannot write %s: %s\n", path, strerror(errno));
        c->errors++;
    }
    return f;
}

void report_close(report_ctx *c, FILE *f, const char *name) {
    if (!f) return;
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "freenas_report: error writing %s/%s: %s\n", c->out_dir, name,
                strerror(errno));
        c->errors++;
    }
}

void report_note(const report_ctx *c, const char *fmt, ...) {
    if (c->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("freenas_report: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

void report_md_text(FILE *f, const char *s) {
    for (; s && *s; s++) {
        if (*s == '|') fputs("\\|", f);
        else if (*s == '\n' || *s == '\r') fputc(' ', f);
        else fputc(*s, f);
    }
}

void report_csv_text(FILE *f, const char *s) {
    if (!s) return;
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void report_fmt_ms(char *buf, size_t len, rank_stats_mean_std m, int prec) {
    if (m.n >= 1 && !(fabs(m.mean) < 1e12)) { /* absurd values stay short */
        if (m.n < 2 || isnan(m.std)) snprintf(buf, len, "%.4g", m.mean);
        else snprintf(buf, len, "%.4g ± %.4g", m.mean, m.std);
        return;
    }
    if (m.n < 1 || isnan(m.mean)) snprintf(buf, len, "-");
    else if (m.n < 2 || isnan(m.std)) snprintf(buf, len, "%.*f", prec, m.mean);
    else snprintf(buf, len, "%.*f ± %.*f", prec, m.mean, prec, m.std);
}

void report_csv_num(FILE *f, double v, int prec) {
    if (!isnan(v)) fprintf(f, "%.*f", prec, v);
}

void report_md_num(FILE *f, double v, int prec) {
    if (isnan(v)) fprintf(f, " - |");
    else fprintf(f, " %.*f |", prec, v);
}

void report_slug(const char *label, char *buf, size_t len) {
    size_t n = 0;
    int gap = 0;
    for (const char *p = label; *p && n + 2 < len; p++) {
        unsigned char ch = (unsigned char)*p;
        if (isalnum(ch) || ch == '.' || ch == '-' || ch == '=') {
            if (gap && n) buf[n++] = '_';
            buf[n++] = ch == '=' ? '-' : (char)ch;
            gap = 0;
        } else {
            gap = 1;
        }
    }
    if (!n) buf[n++] = 'x';
    buf[n] = '\0';
}

int report_dataset_paper_index(const char *ds) {
    if (!ds) return -1;
    if (!strcasecmp(ds, "cifar10")) return PAPER_C10;
    if (!strcasecmp(ds, "cifar100")) return PAPER_C100;
    if (!strcasecmp(ds, "imagenet16-120") || !strcasecmp(ds, "imagenet16") ||
        !strcasecmp(ds, "imagenet16_120"))
        return PAPER_IN16;
    return -1;
}

int report_dataset_test_acc(const char *ds) {
    switch (report_dataset_paper_index(ds)) {
    case PAPER_C10: return 1;
    case PAPER_C100: return 2;
    case PAPER_IN16: return 3;
    default: return -1;
    }
}

int report_dataset_valid_acc(const char *ds) {
    return report_dataset_paper_index(ds) == PAPER_C10 ? 0 : -1;
}

double report_record_acc(const report_record *r, int acc) {
    if (acc < 0 || acc >= REPORT_NUM_ACC) return NAN;
    return report_num(report_obj(r->rec, "accuracy"), report_acc_keys[acc]);
}

int report_cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
