#include <cblas.h>

/* LAPACK's symmetric eigensolver, exported by OpenBLAS (not declared in its cblas.h). */
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
            double *w, double *work, const int *lwork, int *info);
