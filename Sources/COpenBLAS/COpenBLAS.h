// The CBLAS interface of OpenBLAS (Debian: libopenblas-dev). All matrix products in
// vidclass go through one GEMM entry point in the Tensors module, so the BLAS can be swapped.
#pragma once
#include <cblas.h>

// OpenBLAS extensions (declared in its cblas.h on Debian; repeated here for clarity).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
