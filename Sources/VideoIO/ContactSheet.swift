/// A grid of frames with each frame's index and time written under it: what a sampler picked,
/// shown so a person can see what a model will see.
public enum ContactSheet {
    /// The color of a marked tile's frame and label (orange).
    public static let markColor: (UInt8, UInt8, UInt8) = (255, 150, 0)

    /// Lays `frames` out in a grid (`columns` wide, default: about square) on a dark background,
    /// each tile labelled `#index t.ts`. All frames must have the same size.
    /// - Parameters:
    ///   - frames: the frames, in the order they are laid out.
    ///   - columns: tiles per row (default: about square).
    ///   - marked: indices of frames to mark (an orange frame around the tile, an orange label),
    ///     for example the frames a model used among others that show the whole video.
    public static func render(_ frames: [VideoFrame], columns: Int? = nil, marked: Set<Int> = []) -> (pixels: [UInt8], width: Int, height: Int) {
        guard let first = frames.first else { return ([20, 20, 20], 1, 1) }
        let scale = first.width >= 160 ? 2 : 1
        let labelHeight = (BitmapFont.glyphHeight + 4) * scale
        let gap = 4
        let columns = max(1, columns ?? Int(Double(frames.count).squareRoot().rounded(.up)))
        let rows = (frames.count + columns - 1) / columns
        let tileWidth = first.width, tileHeight = first.height + labelHeight
        let width = columns * tileWidth + (columns + 1) * gap
        let height = rows * tileHeight + (rows + 1) * gap
        var canvas = [UInt8](repeating: 24, count: width * height * 3)
        for (n, frame) in frames.enumerated() {
            precondition(frame.width == first.width && frame.height == first.height, "contact sheet frames differ in size")
            let x0 = gap + (n % columns) * (tileWidth + gap)
            let y0 = gap + (n / columns) * (tileHeight + gap)
            for row in 0..<frame.height {
                let dst = ((y0 + row) * width + x0) * 3
                let src = row * frame.width * 3
                canvas.replaceSubrange(dst..<dst + frame.width * 3, with: frame.pixels[src..<src + frame.width * 3])
            }
            let isMarked = marked.contains(frame.index)
            if isMarked {
                // A 3-pixel frame in the gap around the tile.
                let c = markColor
                for y in max(0, y0 - 3)..<min(height, y0 + tileHeight + 3) {
                    for x in max(0, x0 - 3)..<min(width, x0 + tileWidth + 3)
                    where y < y0 || y >= y0 + tileHeight || x < x0 || x >= x0 + tileWidth {
                        let i = (y * width + x) * 3
                        canvas[i] = c.0; canvas[i + 1] = c.1; canvas[i + 2] = c.2
                    }
                }
            }
            let label = "#\(frame.index) \(formatTime(frame.time))s"
            BitmapFont.draw(label, into: &canvas, canvasWidth: width, x: x0 + scale, y: y0 + frame.height + 2 * scale,
                            scale: scale, maxWidth: tileWidth - scale, color: isMarked ? markColor : (255, 255, 255))
        }
        return (canvas, width, height)
    }

    static func formatTime(_ t: Double) -> String {
        let hundredths = Int((t * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

/// A 5×7 pixel font for digits and the few characters labels use.
enum BitmapFont {
    static let glyphWidth = 5, glyphHeight = 7
    private static let glyphs: [Character: [UInt8]] = [
        "0": [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E], "1": [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        "2": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F], "3": [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        "4": [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02], "5": [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        "6": [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E], "7": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        "8": [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E], "9": [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        "#": [0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A], ".": [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        "s": [0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E], "-": [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        ":": [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00], " ": [0, 0, 0, 0, 0, 0, 0],
    ]

    /// Draws `text` in white at (x, y), clipped to `maxWidth` pixels.
    static func draw(_ text: String, into canvas: inout [UInt8], canvasWidth: Int, x: Int, y: Int, scale: Int, maxWidth: Int,
                     color: (UInt8, UInt8, UInt8) = (255, 255, 255)) {
        let canvasHeight = canvas.count / (canvasWidth * 3)
        var penX = x
        for character in text {
            let advance = (glyphWidth + 1) * scale
            guard penX + glyphWidth * scale <= x + maxWidth else { break }
            if let rows = glyphs[character] {
                for (r, bits) in rows.enumerated() {
                    for c in 0..<glyphWidth where bits & (0x10 >> UInt8(c)) != 0 {
                        for dy in 0..<scale {
                            for dx in 0..<scale {
                                let px = penX + c * scale + dx, py = y + r * scale + dy
                                guard px < canvasWidth, py < canvasHeight else { continue }
                                let i = (py * canvasWidth + px) * 3
                                canvas[i] = color.0; canvas[i + 1] = color.1; canvas[i + 2] = color.2
                            }
                        }
                    }
                }
            }
            penX += advance
        }
    }
}
