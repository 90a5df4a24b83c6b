import Foundation

/// Damaged videos made from good ones, for hardening: every file it writes must go through
/// `probe`, `classify` and `label` without a crash, a hang or unbounded memory, giving either a
/// clear error or a correct result.
///
/// Deterministic: input `i` of seed `s` is always the same bytes. The kinds of damage are those
/// videos from strangers have: truncations anywhere (in the header, mid-stream, in the middle of
/// the last frame), bit flips and byte runs in headers and in the stream, swapped, duplicated and
/// inserted blocks, empty and random files, wrong extensions, absurd declared frame sizes
/// (60000×60000) and frame rates (0, 1/2³², 2³²−1 per second), and H.264 streams whose keyframes
/// are gone.
public struct CorruptionCorpus {
    /// The damage done to one input.
    public enum Kind: String, CaseIterable, Sendable {
        case truncated, truncatedHeader, truncatedLastFrame
        case bitFlips, headerBitFlips, byteRun, headerByteRun
        case swappedBlocks, duplicatedBlock, insertedBytes
        case empty, randomBytes, wrongExtension
        case absurdSize, absurdFrameRate, noKeyframe
    }

    /// One generated input.
    public struct Input: Sendable {
        public var name: String
        public var kind: Kind
        public var source: String
        public var bytes: [UInt8]
    }

    public let sources: [(path: String, bytes: [UInt8])]
    public let seed: UInt64

    /// - Parameter sources: good video files to damage.
    public init(sources: [String], seed: UInt64) throws {
        self.sources = try sources.sorted().map { path in
            guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path])
            }
            return (path, [UInt8](data))
        }
        precondition(!self.sources.isEmpty, "no source videos")
        self.seed = seed
    }

    /// The good videos in the repository's fixtures (`Fixtures/videos`, `Fixtures/synthetic`).
    public static func fixtureSources() -> [String] {
        let manager = FileManager.default
        var files: [String] = []
        for folder in ["videos", "synthetic"] {
            let root = TestPaths.fixture(folder)
            guard let walker = manager.enumerator(atPath: root) else { continue }
            for case let relative as String in walker where ["mp4", "mkv", "webm", "avi"].contains((relative as NSString).pathExtension) {
                files.append(root + "/" + relative)
            }
        }
        return files
    }

    /// Input number `index` (kinds cycle, so any prefix of the corpus has every kind).
    public func input(_ index: Int) -> Input {
        var rng = Generator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index))
        let kind = Kind.allCases[index % Kind.allCases.count]
        let source = sources[Int(rng.below(UInt64(sources.count)))]
        var bytes = source.bytes
        var ext = (source.path as NSString).pathExtension
        let n = bytes.count
        switch kind {
        case .truncated:
            bytes = Array(bytes.prefix(Int(rng.below(UInt64(n)))))
        case .truncatedHeader:
            bytes = Array(bytes.prefix(Int(rng.below(UInt64(min(n, 4096))))))
        case .truncatedLastFrame:
            bytes = Array(bytes.prefix(n - 1 - Int(rng.below(UInt64(max(1, n / 5))))))
        case .bitFlips, .headerBitFlips:
            let limit = kind == .headerBitFlips ? min(n, 1024) : n
            for _ in 0...Int(rng.below(16)) {
                let i = Int(rng.below(UInt64(limit)))
                bytes[i] ^= 1 << UInt8(rng.below(8))
            }
        case .byteRun, .headerByteRun:
            let limit = kind == .headerByteRun ? min(n, 2048) : n
            let start = Int(rng.below(UInt64(limit)))
            let length = min(n - start, 1 + Int(rng.below(512)))
            let fill = [UInt8(0), 0xFF, UInt8(truncatingIfNeeded: rng.next())][Int(rng.below(3))]
            let random = rng.below(2) == 0
            for i in start..<(start + length) { bytes[i] = random ? UInt8(truncatingIfNeeded: rng.next()) : fill }
        case .swappedBlocks, .duplicatedBlock:
            let length = 16 + Int(rng.below(UInt64(max(1, n / 8))))
            guard n > 2 * length + 2 else { break }
            let a = n / 4 + Int(rng.below(UInt64(max(1, n / 4 - length))))
            let b = n / 2 + Int(rng.below(UInt64(max(1, n / 2 - length))))
            let blockA = Array(bytes[a..<(a + length)]), blockB = Array(bytes[b..<(b + length)])
            bytes.replaceSubrange(b..<(b + length), with: blockA)
            if kind == .swappedBlocks { bytes.replaceSubrange(a..<(a + length), with: blockB) }
        case .insertedBytes:
            let at = Int(rng.below(UInt64(n)))
            bytes.insert(contentsOf: (0..<(1 + Int(rng.below(300)))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
        case .empty:
            bytes = []
        case .randomBytes:
            bytes = (0..<(1 + Int(rng.below(65536)))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            ext = ["mp4", "webm", "avi", "mkv"][Int(rng.below(4))]
        case .wrongExtension:
            ext = ["avi", "mkv", "mp4", "webm", "txt", "png"].filter { $0 != ext }[Int(rng.below(5))]
        case .absurdSize:
            Self.patchSizes(&bytes, width: 60000, height: 60000)
        case .absurdFrameRate:
            Self.patchFrameRates(&bytes, to: [0, 1, 0xFFFF_FFFF][Int(rng.below(3))])
        case .noKeyframe:
            Self.removeKeyframes(&bytes)
        }
        let base = ((source.path as NSString).lastPathComponent as NSString).deletingPathExtension
        return Input(name: String(format: "%06d-%@-%@.%@", index, kind.rawValue, base, ext), kind: kind, source: source.path, bytes: bytes)
    }

    /// Writes inputs `range` into `directory`; returns their paths.
    @discardableResult
    public func write(_ range: Range<Int>, into directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try range.map { i in
            let item = input(i)
            let path = directory + "/" + item.name
            try Data(item.bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
    }

    // MARK: - Container surgery

    /// Offsets just past each occurrence of a four-byte tag.
    static func occurrences(of tag: String, in bytes: [UInt8]) -> [Int] {
        let t = Array(tag.utf8)
        guard bytes.count >= 4 else { return [] }
        return (0...(bytes.count - 4)).filter { bytes[$0] == t[0] && bytes[$0 + 1] == t[1] && bytes[$0 + 2] == t[2] && bytes[$0 + 3] == t[3] }
            .map { $0 + 4 }
    }

    static func put32(_ value: UInt32, at offset: Int, in bytes: inout [UInt8], bigEndian: Bool) {
        guard offset >= 0, offset + 4 <= bytes.count else { return }
        for k in 0..<4 {
            let shift = bigEndian ? 24 - 8 * k : 8 * k
            bytes[offset + k] = UInt8(truncatingIfNeeded: value >> UInt32(shift))
        }
    }

    static func put16(_ value: UInt16, at offset: Int, in bytes: inout [UInt8]) {
        guard offset >= 0, offset + 2 <= bytes.count else { return }
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(value & 0xFF)
    }

    /// Declares a huge frame: MP4 `tkhd` width/height, AVI `avih`/`strf` sizes, JPEG SOF0 markers
    /// and Matroska's PixelWidth/PixelHeight elements.
    static func patchSizes(_ bytes: inout [UInt8], width: Int, height: Int) {
        for p in occurrences(of: "tkhd", in: bytes) {
            // Version 0 tkhd: 4 flags, 4+4 times, 4 track, 4 reserved, 4 duration, 8 reserved,
            // 2+2+2+2, 36 matrix, then width and height in 16.16 fixed point.
            let widthOffset = p + 4 + 4 + 4 + 4 + 4 + 4 + 8 + 8 + 36
            put32(UInt32(width) << 16, at: widthOffset, in: &bytes, bigEndian: true)
            put32(UInt32(height) << 16, at: widthOffset + 4, in: &bytes, bigEndian: true)
        }
        for p in occurrences(of: "avih", in: bytes) {
            put32(UInt32(width), at: p + 4 + 32, in: &bytes, bigEndian: false)
            put32(UInt32(height), at: p + 4 + 36, in: &bytes, bigEndian: false)
        }
        for p in occurrences(of: "strf", in: bytes) {
            put32(UInt32(width), at: p + 4 + 4, in: &bytes, bigEndian: false)
            put32(UInt32(height), at: p + 4 + 8, in: &bytes, bigEndian: false)
        }
        // JPEG SOF0: FF C0, length (2), precision (1), height (2), width (2).
        var i = 0
        while i + 9 < bytes.count {
            if bytes[i] == 0xFF && bytes[i + 1] == 0xC0 && bytes[i + 4] == 8 {
                put16(UInt16(min(height, 65535)), at: i + 5, in: &bytes)
                put16(UInt16(min(width, 65535)), at: i + 7, in: &bytes)
                i += 9
            } else {
                i += 1
            }
        }
        // Matroska: PixelWidth (B0) and PixelHeight (BA) as 2-byte unsigned integers (size byte 0x82).
        i = 0
        while i + 3 < bytes.count {
            if (bytes[i] == 0xB0 || bytes[i] == 0xBA) && bytes[i + 1] == 0x82 {
                put16(UInt16(bytes[i] == 0xB0 ? min(width, 65535) : min(height, 65535)), at: i + 2, in: &bytes)
                i += 4
            } else {
                i += 1
            }
        }
    }

    /// Declares an absurd frame rate: MP4 `mdhd` time scale, AVI `strh` rate and scale and the
    /// main header's microseconds per frame, Matroska's TimecodeScale.
    static func patchFrameRates(_ bytes: inout [UInt8], to value: UInt32) {
        for p in occurrences(of: "mdhd", in: bytes) {
            put32(value, at: p + 4 + 8, in: &bytes, bigEndian: true)  // version 0: flags, creation, modification, time scale
        }
        for p in occurrences(of: "strh", in: bytes) {
            put32(value, at: p + 4 + 20, in: &bytes, bigEndian: false)  // dwScale
            put32(value == 0 ? 0 : value / 2, at: p + 4 + 24, in: &bytes, bigEndian: false)  // dwRate
        }
        for p in occurrences(of: "avih", in: bytes) {
            put32(value, at: p + 4, in: &bytes, bigEndian: false)
        }
        // Matroska TimecodeScale (2A D7 B1), usually 3 bytes of value (size byte 0x83).
        var i = 0
        while i + 7 < bytes.count {
            if bytes[i] == 0x2A && bytes[i + 1] == 0xD7 && bytes[i + 2] == 0xB1 && bytes[i + 3] == 0x83 {
                bytes[i + 4] = UInt8(truncatingIfNeeded: value >> 16)
                bytes[i + 5] = UInt8(truncatingIfNeeded: value >> 8)
                bytes[i + 6] = UInt8(truncatingIfNeeded: value)
                i += 7
            } else {
                i += 1
            }
        }
    }

    /// Makes an H.264 stream without keyframes: IDR slice headers (NAL type 5 after a 4-byte MP4
    /// length prefix, or after an Annex B start code) become non-IDR slices, and the MP4 sync-sample
    /// table (`stss`) lists none. Other formats get every other byte of their first tenth zeroed.
    static func removeKeyframes(_ bytes: inout [UInt8]) {
        var changed = false
        for p in occurrences(of: "stss", in: bytes) {
            put32(0, at: p + 4, in: &bytes, bigEndian: true)  // entry count
            changed = true
        }
        var i = 4
        while i < bytes.count {
            // 0x65 / 0x45 / 0x25: nal_unit_type 5 with nal_ref_idc 3 / 2 / 1.
            if [0x65, 0x45, 0x25].contains(bytes[i]), (bytes[i - 1] == 1 && bytes[i - 2] == 0 && bytes[i - 3] == 0) || changed {
                if changed {
                    // Only where the four bytes before are a plausible length prefix.
                    let length = Int(bytes[i - 4]) << 24 | Int(bytes[i - 3]) << 16 | Int(bytes[i - 2]) << 8 | Int(bytes[i - 1])
                    if length > 1 && length < bytes.count - i + 1 { bytes[i] = (bytes[i] & 0x60) | 1 }
                } else {
                    bytes[i] = (bytes[i] & 0x60) | 1
                }
            }
            i += 1
        }
        if !changed {
            for j in stride(from: bytes.count / 20, to: bytes.count / 10, by: 2) { bytes[j] = 0 }
        }
    }

    /// A SplitMix64-style generator with its own last multiplier (not Tensors' SplitMix64): it
    /// fixes the corpus's bytes for each seed, which RELIABILITY.md's results refer to.
    struct Generator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49EB_133A_D111
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: UInt64) -> UInt64 { bound == 0 ? 0 : next() % bound }
    }
}
