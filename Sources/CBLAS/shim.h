#include <cblas.h>

/* LAPACK's symmetric eigensolver, exported by OpenBLAS (not declared in its cblas.h). */
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
            double *w, double *work, const int *lwork, int *info);

/* LAPACK's singular value decomposition, exported by OpenBLAS (not declared in its cblas.h). */
void dgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a, const int *lda,
             double *s, double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork,
             int *info);
