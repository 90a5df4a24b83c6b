import Foundation

/// A safetensors file's header: the tensor table and the metadata, parsed and validated by the one
/// parser every reader here uses (``SafeTensorsFile``, ``SafeTensorsHeader/read(path:)``).
public struct SafeTensorsHeader: Sendable {
    /// Tensor descriptions by name.
    public var tensors: [String: SafeTensorInfo]
    /// The `__metadata__` map (empty when absent).
    public var metadata: [String: String]
    /// Bytes of tensor data the header declares (the largest end offset): the file is the 8-byte
    /// length, the header and this many bytes.
    public var declaredDataSize: Int

    /// Parses the JSON header; offsets must fall within `dataSize` bytes of tensor data.
    init(json headerData: Data, dataSize: Int) throws(SafeTensorsError) {
        guard String(data: headerData, encoding: .utf8) != nil else { throw .invalidHeader(reason: "not UTF-8") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: headerData, options: [])
        } catch {
            throw .invalidHeader(reason: "\(error.localizedDescription)")
        }
        guard let object = object as? [String: Any] else { throw .invalidHeader(reason: "top level is not an object") }
        var tensors: [String: SafeTensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else { throw .invalidMetadata(reason: "not an object") }
                for (k, v) in map {
                    guard let s = v as? String else { throw .invalidMetadata(reason: "value of '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else { throw .invalidTensorEntry(name: name, reason: "not an object") }
            guard let dtypeString = entry["dtype"] as? String else {
                throw .invalidTensorEntry(name: name, reason: "missing or non-string 'dtype'")
            }
            guard let dtype = SafeTensorsDType(rawValue: dtypeString) else {
                throw .unknownDType(name: name, dtype: dtypeString)
            }
            guard let shapeArray = entry["shape"] as? [Any], let shape = Self.integers(shapeArray) else {
                throw .invalidTensorEntry(name: name, reason: "missing or invalid 'shape'")
            }
            guard let offsetArray = entry["data_offsets"] as? [Any], let offsets = Self.integers(offsetArray),
                  offsets.count == 2
            else {
                throw .invalidTensorEntry(name: name, reason: "missing or invalid 'data_offsets'")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end, end <= dataSize else {
                throw .offsetsOutOfRange(name: name, begin: begin, end: end, dataSize: dataSize)
            }
            var elements = 1
            for d in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw .byteCountMismatch(name: name, shape: shape, dtype: dtypeString, byteCount: end - begin) }
                elements = product
            }
            let (bytesNeeded, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, bytesNeeded == end - begin else {
                throw .byteCountMismatch(name: name, shape: shape, dtype: dtypeString, byteCount: end - begin)
            }
            tensors[name] = SafeTensorInfo(dtype: dtype, shape: shape, dataOffsets: begin..<end)
        }
        let sorted = tensors.sorted { ($0.value.dataOffsets.lowerBound, $0.key) < ($1.value.dataOffsets.lowerBound, $1.key) }
        for (a, b) in zip(sorted, sorted.dropFirst())
        where b.value.dataOffsets.lowerBound < a.value.dataOffsets.upperBound && !b.value.dataOffsets.isEmpty {
            throw .overlappingTensors(first: a.key, second: b.key)
        }
        self.tensors = tensors
        self.metadata = metadata
        self.declaredDataSize = tensors.values.map(\.dataOffsets.upperBound).max() ?? 0
    }

    private static func integers(_ values: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in values {
            guard let number = v as? NSNumber, let i = Int(exactly: number.doubleValue), i >= 0
            else { return nil }
            out.append(i)
        }
        return out
    }

    /// Reads the header alone from the start of the file at `path` (a few kilobytes, whatever the
    /// file's size; any kind of file, pipes included, though a pipe's bytes are then consumed).
    /// - Throws: ``SafeTensorsError`` when it cannot be read or is not a valid header.
    public static func read(path: String) throws(SafeTensorsError) -> SafeTensorsHeader {
        let stream = try SafeTensorsInput(path: path)
        return try stream.readHeader().header
    }
}
