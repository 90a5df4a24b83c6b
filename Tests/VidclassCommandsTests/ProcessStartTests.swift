import CProcessStart
import Glibc
import Testing
import VideoIO

/// The executable's first act (`vc_process_start_quiet_openblas`): an OpenBLAS that FFmpeg's
/// libavdevice brought into the process (libavfilter → libpocketsphinx → libsphinxbase →
/// libblas.so.3) is left single-threaded, its spinning worker threads stopped.
@Suite struct ProcessStartTests {
    @Test func openBLASBroughtByFFmpegIsLeftSingleThreaded() throws {
        // A named device format opens libavdevice, and with it OpenBLAS (when Debian's libblas.so.3 is OpenBLAS).
        _ = try VideoReader(path: "testsrc=duration=0.2:size=32x32:rate=5", options: DecodeOptions(inputFormat: "lavfi")).readAll()
        guard let library = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD) else {
            Issue.record("libavdevice did not bring OpenBLAS in: this machine's BLAS is not OpenBLAS, nothing to stop")
            return
        }
        defer { dlclose(library) }
        let getThreads = try #require(dlsym(library, "openblas_get_num_threads"))
        let threads = unsafeBitCast(getThreads, to: (@convention(c) () -> Int32).self)
        vc_process_start_quiet_openblas()
        #expect(threads() == 1)
        vc_process_start_quiet_openblas()  // twice: harmless
        #expect(threads() == 1)
    }
}
