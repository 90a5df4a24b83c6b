extension TextFont {
    /// The width in pixels of `text` at `scale` (one cell per character).
    package static func width(of text: String, scale: Int = 1) -> Int { text.count * glyphWidth * scale }

    /// Draws `text` (printable ASCII; anything else as `?`) into an RGB24 canvas with its top-left
    /// corner at (x, y), clipped to the canvas.
    package static func draw(_ text: String, into canvas: inout [UInt8], canvasWidth: Int, x: Int, y: Int,
                             color: (UInt8, UInt8, UInt8), scale: Int = 1) {
        let canvasHeight = canvas.count / max(1, canvasWidth * 3)
        for (n, character) in text.enumerated() {
            let code = character.asciiValue.map(Int.init).flatMap { (32...126).contains($0) ? $0 : nil } ?? 63
            let glyph = (code - 32) * glyphHeight
            let left = x + n * glyphWidth * scale
            for row in 0..<glyphHeight {
                let bits = rows[glyph + row]
                for column in 0..<glyphWidth where bits & (1 << UInt8(glyphWidth - 1 - column)) != 0 {
                    for dy in 0..<scale {
                        for dx in 0..<scale {
                            let px = left + column * scale + dx, py = y + row * scale + dy
                            guard px >= 0, py >= 0, px < canvasWidth, py < canvasHeight else { continue }
                            let i = (py * canvasWidth + px) * 3
                            canvas[i] = color.0
                            canvas[i + 1] = color.1
                            canvas[i + 2] = color.2
                        }
                    }
                }
            }
        }
    }
}
