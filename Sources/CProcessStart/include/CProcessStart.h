// What the vidclass executable does first (see process_start.c).
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/// Stops the worker threads OpenBLAS started when FFmpeg's dependencies loaded it (nothing when
/// OpenBLAS is not loaded): OpenBLAS then runs single-threaded, as vidclass uses it.
void vc_process_start_quiet_openblas(void);

#ifdef __cplusplus
}
#endif
