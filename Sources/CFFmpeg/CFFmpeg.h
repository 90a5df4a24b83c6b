// FFmpeg 5.1 (Debian 12: libavformat 59, libavcodec 59, libavutil 57, libswscale 6; libavdevice 59
// opened only when an input format is named, see CFFmpeg_register_devices).
//
// Swift imports FFmpeg's functions and structs directly, but not its function-like or
// compound macros (AVERROR, AVERROR_EOF, AV_NOPTS_VALUE, AV_TIME_BASE_Q, ...). The
// header-only shims below turn each into a symbol Swift can see. They are prefixed with
// the module name so they cannot collide with FFmpeg's own names.
#pragma once

#include <libavformat/avformat.h>
#include <dlfcn.h>
#include <libavformat/avio.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/md5.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#define CFFMPEG_SHIM static inline __attribute__((__always_inline__))

CFFMPEG_SHIM int CFFmpeg_AVERROR(int errnum) { return AVERROR(errnum); }
CFFMPEG_SHIM int CFFmpeg_AVERROR_EOF(void) { return AVERROR_EOF; }
CFFMPEG_SHIM int CFFmpeg_AVERROR_EAGAIN(void) { return AVERROR(EAGAIN); }
CFFMPEG_SHIM int CFFmpeg_AVERROR_INVALIDDATA(void) { return AVERROR_INVALIDDATA; }
CFFMPEG_SHIM int CFFmpeg_AVERROR_DECODER_NOT_FOUND(void) { return AVERROR_DECODER_NOT_FOUND; }
CFFMPEG_SHIM int CFFmpeg_AVERROR_STREAM_NOT_FOUND(void) { return AVERROR_STREAM_NOT_FOUND; }
CFFMPEG_SHIM int CFFmpeg_AVERROR_ENCODER_NOT_FOUND(void) { return AVERROR_ENCODER_NOT_FOUND; }
CFFMPEG_SHIM int64_t CFFmpeg_AV_NOPTS_VALUE(void) { return AV_NOPTS_VALUE; }
CFFMPEG_SHIM AVRational CFFmpeg_AV_TIME_BASE_Q(void) { return AV_TIME_BASE_Q; }

/// The message FFmpeg gives for an error code (av_strerror into a caller buffer).
CFFMPEG_SHIM void CFFmpeg_strerror(int errnum, char *buffer, size_t size) {
    if (av_strerror(errnum, buffer, size) < 0) {
        snprintf(buffer, size, "error %d", errnum);
    }
}

/// The stream's display matrix (side data), or NULL when it has none.
CFFMPEG_SHIM const int32_t *CFFmpeg_stream_display_matrix(const AVStream *stream) {
    size_t size = 0;
    const uint8_t *data = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (data == NULL || size < 9 * sizeof(int32_t)) return NULL;
    return (const int32_t *)data;
}

/// Opens libavdevice (capture devices: v4l2, lavfi, ...) and registers its input formats with
/// libavformat; 0 on success, -1 when it cannot be opened. Not linked: libavdevice brings in
/// libavfilter and about 80 more shared libraries (OpenBLAS among them, through pocketsphinx),
/// whose loading took 50 ms of every vidclass process's start, for the rare input that names a
/// device format. libavdevice's major version is libavformat's.
CFFMPEG_SHIM int CFFmpeg_register_devices(void) {
    char name[64];
    snprintf(name, sizeof name, "libavdevice.so.%d", LIBAVFORMAT_VERSION_MAJOR);
    void *library = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
    if (library == NULL) library = dlopen("libavdevice.so", RTLD_NOW | RTLD_GLOBAL);
    if (library == NULL) return -1;
    void (*registerAll)(void) = (void (*)(void))dlsym(library, "avdevice_register_all");
    if (registerAll == NULL) return -1;
    registerAll();
    return 0;
}
