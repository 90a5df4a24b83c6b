import Foundation
import VideoIO

/// The confusion matrix as a picture: SVG (labels, counts and shaded cells) or PNG (shaded cells).
public enum ConfusionMatrixPicture {
    /// Writes the picture; `.svg` paths get SVG, anything else PNG.
    public static func write(_ report: ClassificationReport, to path: String) throws {
        if path.lowercased().hasSuffix(".svg") {
            do {
                try Data(svg(report).utf8).write(to: URL(fileURLWithPath: path))
            } catch {
                throw VideoClassificationError(.ioError, path: path, message: "cannot write the confusion matrix: \(error.localizedDescription)",
                                               underlying: error)
            }
        } else {
            let (pixels, width, height) = png(report)
            try ImageWriter.writePNG(pixels: pixels, width: width, height: height, to: path)
        }
    }

    /// The SVG document: rows are the truth, columns the prediction, each cell its count.
    public static func svg(_ r: ClassificationReport) -> String {
        let k = r.labels.count, cell = 40, left = 12 + 7 * (r.labels.map(\.count).max() ?? 4), top = 30
        let maxCount = max(1, r.confusion.flatMap { $0 }.max() ?? 1)
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(left + k * cell + 10)\" height=\"\(top + k * cell + 30)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<text x=\"\(left)\" y=\"18\">predicted →  (rows: truth)</text>\n"
        for (i, row) in r.confusion.enumerated() {
            out += "<text x=\"4\" y=\"\(top + i * cell + cell / 2 + 4)\">\(escape(r.labels[i]))</text>\n"
            for (j, count) in row.enumerated() {
                let shade = 255 - Int(Double(count) / Double(maxCount) * 200)
                out += "<rect x=\"\(left + j * cell)\" y=\"\(top + i * cell)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(shade),\(shade),255)\" stroke=\"#888\"/>"
                out += "<text x=\"\(left + j * cell + cell / 2)\" y=\"\(top + i * cell + cell / 2 + 4)\" text-anchor=\"middle\">\(count)</text>\n"
            }
        }
        for j in 0..<k { out += "<text x=\"\(left + j * cell + cell / 2)\" y=\"\(top + k * cell + 16)\" text-anchor=\"middle\">[\(j)]</text>\n" }
        return out + "</svg>\n"
    }

    /// RGB24 pixels, width and height of the PNG rendering.
    public static func png(_ r: ClassificationReport) -> ([UInt8], Int, Int) {
        let k = r.labels.count, cell = 32, size = k * cell + 2
        let maxCount = max(1, r.confusion.flatMap { $0 }.max() ?? 1)
        var pixels = [UInt8](repeating: 255, count: size * size * 3)
        for (i, row) in r.confusion.enumerated() {
            for (j, count) in row.enumerated() {
                let shade = UInt8(255 - Int(Double(count) / Double(maxCount) * 200))
                for y in (i * cell + 1)..<((i + 1) * cell) {
                    for x in (j * cell + 1)..<((j + 1) * cell) {
                        let p = (y * size + x) * 3
                        pixels[p] = shade; pixels[p + 1] = shade; pixels[p + 2] = 255
                    }
                }
            }
        }
        return (pixels, size, size)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}

extension ClassificationReport {
    /// Draws the confusion matrix to `path` (`.svg` or `.png`).
    public func writeConfusionMatrix(to path: String) throws {
        try ConfusionMatrixPicture.write(self, to: path)
    }
}
