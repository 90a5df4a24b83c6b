/// A frame size in pixels.
public struct FrameSize: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// A size of `width × height` pixels.
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// A square size.
    public init(_ side: Int) { self.init(width: side, height: side) }

    /// `WIDTHxHEIGHT`, e.g. `160x120`.
    public var description: String { "\(width)x\(height)" }
}
