import Foundation
import Testing
import VideoIO
import VidclassTestSupport

/// Names that are not UTF-8 keep their bytes: decoded to a String with U+F700 + byte for each byte
/// that is not part of valid UTF-8, and back.
struct FileNameBytesTests {
    @Test func bytesRoundTrip() {
        let cases: [[UInt8]] = [
            Array("plain.mp4".utf8),
            Array("café.mp4".utf8),                     // valid UTF-8 stays as it is
            [0x63, 0x61, 0x66, 0xE9, 0x2E, 0x6D, 0x70, 0x34],  // Latin-1 "café.mp4"
            [0xFF, 0xFE, 0x80, 0xC0, 0xAF, 0xED, 0xA0, 0x80],  // stray, overlong, surrogate bytes
            [0xE2, 0x82],                                // a truncated sequence at the end
            Array("😀".utf8) + [0xF0, 0x9F],
        ]
        for bytes in cases {
            let text = FileNameBytes.string(bytes)
            #expect(FileNameBytes.bytes(text) == bytes, "\(bytes)")
        }
        #expect(FileNameBytes.string(Array("café.mp4".utf8)) == "café.mp4")
        #expect(FileNameBytes.string([0x63, 0xE9]) == "c\u{F7E9}")
        #expect(FileNameBytes.hasRawBytes("c\u{F7E9}") && !FileNameBytes.hasRawBytes("café"))
    }

    @Test func aLatin1NamedVideoOpens() throws {
        let folder = try TestPaths.temporaryDirectory("latin1")
        let raw: [UInt8] = Array(folder.path.utf8) + Array("/caf".utf8) + [0xE9] + Array(".mp4".utf8)
        let source = TestPaths.fixture("videos/h264_bframes_gop30.mp4")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        let fd = raw.map { CChar(bitPattern: $0) }.withUnsafeBufferPointer { buffer -> Int32 in
            var path = Array(buffer); path.append(0)
            return open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
        #expect(fd >= 0)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let name = FileNameBytes.string(raw)
        let metadata = try VideoFile.probe(path: name)
        #expect(metadata.width > 0)
        let frames = try VideoReader(path: name, options: DecodeOptions(sampling: .uniform(3))).readAll()
        #expect(frames.count == 3)
    }
}
