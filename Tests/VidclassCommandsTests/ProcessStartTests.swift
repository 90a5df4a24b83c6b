import CProcessStart
import Glibc
import Testing

/// The executable's first act (`vc_process_start_quiet_openblas`): the OpenBLAS that FFmpeg's
/// dependencies load into every process (libavfilter → libpocketsphinx → libsphinxbase →
/// libblas.so.3) is left single-threaded, its spinning worker threads stopped.
@Suite struct ProcessStartTests {
    @Test func openBLASLoadedWithFFmpegIsLeftSingleThreaded() throws {
        // FFmpeg's libraries are linked into this test process, as into vidclass.
        guard let library = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD) else {
            // This FFmpeg does not bring OpenBLAS in: nothing to stop.
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
