import Testing
@testable import VideoIO

/// Inputs whose format comes from libavdevice, which vidclass opens only when an input names its
/// format (not linked: it brings some 80 shared libraries into every process's start).
@Suite struct DeviceInputTests {
    /// `lavfi`, libavdevice's virtual input, decodes a filter graph's frames: the format is found
    /// once the input names it, and the frames are the graph's.
    @Test func namedDeviceFormatIsLoadedOnDemand() throws {
        let frames = try VideoReader(path: "testsrc=duration=1:size=64x48:rate=5",
                                     options: DecodeOptions(inputFormat: "lavfi")).readAll()
        #expect(frames.count == 5)
        #expect(frames.allSatisfy { $0.width == 64 && $0.height == 48 })
    }

    /// A format no library has is still refused by name.
    @Test func unknownFormatIsRefused() {
        #expect(throws: VideoIOError.self) {
            _ = try VideoReader(path: "/dev/null", options: DecodeOptions(inputFormat: "no-such-format")).readAll()
        }
    }
}
