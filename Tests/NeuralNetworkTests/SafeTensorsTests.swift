import Foundation
import NeuralNetwork
import Tensors
import Testing

@Suite struct SafeTensorsTests {
    /// A hand-made file: 8-byte length, header, data.
    static func file(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        let n = declaredLength ?? UInt64(h.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + h + data
    }

    static func expectError(_ bytes: [UInt8], _ check: (SafeTensorsError) -> Bool) {
        do {
            _ = try SafeTensorsFile(bytes: bytes)
            Issue.record("expected an error")
        } catch {
            #expect(check(error), "wrong error: \(error)")
        }
    }

    @Test func roundTripWithMetadataThroughAFile() throws {
        let a = Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 4, 5, 6])
        let b = Tensor(shape: [4], scalars: [0.25, 0, -1, 1e-8])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let meta = ["model": "{\"arch\": \"lrcn-small\"}", "labels": "a\nb \"c\""]
        try SafeTensors.write([("layer.weight", a), ("b", b)], metadata: meta, to: path)
        let f = try SafeTensorsFile(path: path)
        #expect(f.metadata == meta)
        #expect(f.names == ["b", "layer.weight"])
        #expect(try f.tensor(named: "layer.weight").scalars == a.scalars)
        #expect(try f.tensor(named: "layer.weight").shape == [2, 3])
        #expect(try f.tensor(named: "b").scalars == b.scalars)
        // Header is padded so the data section starts 8-byte aligned.
        let bytes = SafeTensors.encode([("b", b)])
        #expect((bytes.count - 16) % 8 == 0)
    }

    @Test func readsF16AndBF16() throws {
        let f16: [UInt16] = [Float16(1.5).bitPattern, Float16(-0.25).bitPattern]
        let bf16: [UInt16] = [UInt16(Float(3.0).bitPattern >> 16), UInt16(Float(-2.0).bitPattern >> 16)]
        let data = (f16 + bf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let header = #"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[4,8]}}"#
        let f = try SafeTensorsFile(bytes: Self.file(header: header, data: data))
        #expect(try f.tensor(named: "h").scalars == [1.5, -0.25])
        #expect(try f.tensor(named: "b").scalars == [3, -2])
        #expect(f.metadata.isEmpty)
    }

    @Test func malformedFilesThrowTypedErrors() {
        let ok = #"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let eight = [UInt8](repeating: 0, count: 8)
        Self.expectError([1, 2, 3]) { $0 == .fileTooSmall(size: 3) }
        Self.expectError(Self.file(header: ok, data: eight, declaredLength: 1 << 40)) {
            if case .headerLengthOutOfRange = $0 { true } else { false }
        }
        Self.expectError(Self.file(header: "{\"t\": [1, 2", data: eight)) {
            if case .invalidHeader = $0 { true } else { false }
        }
        Self.expectError(Self.file(header: "[1, 2]")) {
            if case .invalidHeader = $0 { true } else { false }
        }
        Self.expectError(Self.file(header: #"{"t":{"dtype":"F99","shape":[2],"data_offsets":[0,8]}}"#, data: eight)) {
            $0 == .unknownDType(name: "t", dtype: "F99")
        }
        Self.expectError(Self.file(header: #"{"t":{"dtype":"F32","shape":[2]}}"#, data: eight)) {
            if case .invalidTensorEntry(name: "t", _) = $0 { true } else { false }
        }
        Self.expectError(Self.file(header: #"{"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: eight)) {
            if case .invalidTensorEntry(name: "t", _) = $0 { true } else { false }
        }
        // Truncated data section.
        Self.expectError(Self.file(header: ok, data: [0, 0, 0, 0])) {
            $0 == .offsetsOutOfRange(name: "t", begin: 0, end: 8, dataSize: 4)
        }
        Self.expectError(Self.file(header: #"{"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: eight)) {
            if case .offsetsOutOfRange = $0 { true } else { false }
        }
        Self.expectError(Self.file(header: #"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight)) {
            $0 == .byteCountMismatch(name: "t", shape: [3], dtype: "F32", byteCount: 8)
        }
        let overlap = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        Self.expectError(Self.file(header: overlap, data: eight)) { $0 == .overlappingTensors(first: "a", second: "b") }
        Self.expectError(Self.file(header: #"{"__metadata__":{"k":1}}"#)) {
            if case .invalidMetadata = $0 { true } else { false }
        }
        Self.expectError(Self.file(header: #"{"__metadata__":[]}"#)) {
            if case .invalidMetadata = $0 { true } else { false }
        }
        // Empty header, non-UTF-8 header, non-integer offsets.
        Self.expectError(Self.file(header: "")) {
            if case .invalidHeader = $0 { true } else { false }
        }
        Self.expectError([2, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFE]) {
            if case .invalidHeader = $0 { true } else { false }
        }
        Self.expectError(Self.file(header: #"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0.5,8]}}"#, data: eight)) {
            if case .invalidTensorEntry(name: "t", _) = $0 { true } else { false }
        }
        // A truncated copy of a valid file.
        let valid = SafeTensors.encode([("w", Tensor(shape: [3], scalars: [1, 2, 3]))])
        Self.expectError(Array(valid.dropLast(5))) {
            if case .offsetsOutOfRange(name: "w", _, _, _) = $0 { true } else { false }
        }
        Self.expectError(Array(valid.prefix(12))) {
            if case .headerLengthOutOfRange = $0 { true } else { false }
        }
    }

    @Test func unsupportedDTypeAndMissingFileAreErrors() throws {
        let f = try SafeTensorsFile(bytes: Self.file(
            header: #"{"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)))
        #expect(throws: SafeTensorsError.unsupportedDType(name: "n", dtype: "I64")) { try f.tensor(named: "n") }
        #expect(throws: SafeTensorsError.missingTensor(name: "x")) { try f.tensor(named: "x") }
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: "/nonexistent/model.safetensors") }
    }

    @Test func layerLoadChecksNamesAndShapes() throws {
        var rng = SplitMix64(seed: 1)
        let a = Sequential([Linear(3, 2, rng: &rng), BatchNorm2d(2)])
        let b = Sequential([Linear(3, 2, rng: &rng), BatchNorm2d(2)])
        var tensors = a.stateTensors()
        tensors.append(("1.num_batches_tracked", Tensor(scalar: 0)))
        try b.load(from: SafeTensorsFile(bytes: SafeTensors.encode(tensors)))
        #expect(b.namedParameters()[0].1.value.scalars == a.namedParameters()[0].1.value.scalars)

        let missing = try SafeTensorsFile(bytes: SafeTensors.encode(Array(tensors.dropFirst())))
        #expect(throws: SafeTensorsError.missingTensor(name: "0.weight")) { try b.load(from: missing) }
        let extra = try SafeTensorsFile(bytes: SafeTensors.encode(tensors + [("2.weight", Tensor(shape: [1]))]))
        #expect(throws: SafeTensorsError.unexpectedTensors(names: ["2.weight"])) { try b.load(from: extra) }
        try b.load(from: extra, strict: false)
        var wrong = tensors
        wrong[0].1 = Tensor(shape: [3, 2])
        let bad = try SafeTensorsFile(bytes: SafeTensors.encode(wrong))
        #expect(throws: SafeTensorsError.shapeMismatch(name: "0.weight", expected: [2, 3], found: [3, 2])) {
            try b.load(from: bad)
        }
    }
}
