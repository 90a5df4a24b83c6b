import Foundation
import VideoIO

/// The confusion matrix as a picture, SVG or PNG: class names, counts and axes in both.
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

    /// Row labels: `[i] name`, the index the column headers use.
    static func rowLabels(_ r: ClassificationReport, limit: Int = 28) -> [String] {
        r.labels.enumerated().map { i, label in
            let name = label.count > limit ? String(label.prefix(limit - 1)) + "~" : label
            return "[\(i)] \(name)"
        }
    }

    /// The SVG document: rows are the truth, columns the prediction, each cell its count; row
    /// labels carry the class names and the index the column headers use.
    public static func svg(_ r: ClassificationReport) -> String {
        let k = r.labels.count, cell = 40, top = 44
        let labels = rowLabels(r, limit: 60)
        let left = 16 + 7 * (labels.map(\.count).max() ?? 4)
        let maxCount = max(1, r.confusion.flatMap { $0 }.max() ?? 1)
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(max(left + k * cell + 10, 320))\" height=\"\(top + k * cell + 30)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<text x=\"4\" y=\"16\">rows: true class · columns: predicted class · cells: clips (\(r.count) in all)</text>\n"
        for j in 0..<k { out += "<text x=\"\(left + j * cell + cell / 2)\" y=\"\(top - 8)\" text-anchor=\"middle\">[\(j)]</text>\n" }
        for (i, row) in r.confusion.enumerated() {
            out += "<text x=\"4\" y=\"\(top + i * cell + cell / 2 + 4)\">\(escape(labels[i]))</text>\n"
            for (j, count) in row.enumerated() {
                let shade = 255 - Int(Double(count) / Double(maxCount) * 200)
                out += "<rect x=\"\(left + j * cell)\" y=\"\(top + i * cell)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(shade),\(shade),255)\" stroke=\"#888\"/>"
                out += "<text x=\"\(left + j * cell + cell / 2)\" y=\"\(top + i * cell + cell / 2 + 4)\" text-anchor=\"middle\">\(count)</text>\n"
            }
        }
        out += "<text x=\"\(left)\" y=\"\(top + k * cell + 18)\">predicted →</text>\n"
        return out + "</svg>\n"
    }

    /// RGB24 pixels, width and height of the PNG rendering: the same picture as the SVG (a title,
    /// row labels with class names, column indices, the counts in shaded cells), drawn with
    /// vidclass's own bitmap font.
    public static func png(_ r: ClassificationReport) -> ([UInt8], Int, Int) {
        let k = r.labels.count
        let glyphH = TextFont.glyphHeight
        let labels = rowLabels(r)
        let maxCount = max(1, r.confusion.flatMap { $0 }.max() ?? 1)
        let cell = max(36, TextFont.width(of: "\(maxCount)") + 12, TextFont.width(of: "[\(k)]") + 10)
        let title = "rows: true class, columns: predicted, cells: clips (\(r.count))"
        let left = 10 + (labels.map { TextFont.width(of: $0) }.max() ?? 0) + 10
        let top = 8 + glyphH + 10 + glyphH + 6
        let width = max(left + k * cell + 10, TextFont.width(of: title) + 20)
        let height = top + k * cell + 8 + glyphH + 8
        var pixels = [UInt8](repeating: 255, count: width * height * 3)
        let ink: (UInt8, UInt8, UInt8) = (20, 20, 20)
        TextFont.draw(title, into: &pixels, canvasWidth: width, x: 10, y: 8, color: ink)
        for j in 0..<k {
            let header = "[\(j)]"
            TextFont.draw(header, into: &pixels, canvasWidth: width, x: left + j * cell + (cell - TextFont.width(of: header)) / 2,
                          y: top - glyphH - 4, color: ink)
        }
        for (i, row) in r.confusion.enumerated() {
            TextFont.draw(labels[i], into: &pixels, canvasWidth: width, x: 10, y: top + i * cell + (cell - glyphH) / 2, color: ink)
            for (j, count) in row.enumerated() {
                let fill = UInt8(255 - Int(Double(count) / Double(maxCount) * 200))
                for y in (top + i * cell)..<(top + (i + 1) * cell) {
                    for x in (left + j * cell)..<(left + (j + 1) * cell) {
                        let edge = y == top + i * cell || x == left + j * cell || y == top + (i + 1) * cell - 1 || x == left + (j + 1) * cell - 1
                        let p = (y * width + x) * 3
                        if edge {
                            pixels[p] = 136; pixels[p + 1] = 136; pixels[p + 2] = 136
                        } else {
                            pixels[p] = fill; pixels[p + 1] = fill; pixels[p + 2] = 255
                        }
                    }
                }
                let text = "\(count)"
                let color: (UInt8, UInt8, UInt8) = fill < 130 ? (255, 255, 255) : ink
                TextFont.draw(text, into: &pixels, canvasWidth: width, x: left + j * cell + (cell - TextFont.width(of: text)) / 2,
                              y: top + i * cell + (cell - glyphH) / 2, color: color)
            }
        }
        TextFont.draw("predicted ->", into: &pixels, canvasWidth: width, x: left, y: top + k * cell + 8, color: ink)
        return (pixels, width, height)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

extension ClassificationReport {
    /// Draws the confusion matrix to `path` (`.svg` or `.png`).
    public func writeConfusionMatrix(to path: String) throws {
        try ConfusionMatrixPicture.write(self, to: path)
    }
}
