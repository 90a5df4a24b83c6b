/// A frame size in pixels.
public struct FrameSize: Hashable, Sendable, Codable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// A square size.
    public init(_ side: Int) { self.init(width: side, height: side) }

    public var description: String { "\(width)x\(height)" }
}
