import Foundation
import VideoIO

/// The frames a model used, as one row of small pictures, each labelled with its index and time:
/// what `vidclass report` shows beside every clip.
public enum ThumbnailStrip {
    /// Decodes exactly `frames` of the video (by index; nothing else is converted), scales each to
    /// `height` pixels high at the video's display aspect, and lays them out in one row with
    /// `#index time` under each (`ContactSheet`).
    /// - Parameters:
    ///   - path: the video.
    ///   - frames: the frames to show (indices in presentation order, as the model recorded them).
    ///   - height: picture height in pixels (even; default 64).
    /// - Returns: packed RGB24 pixels and their size (both even, so they encode as JPEG).
    /// - Throws: `VideoIOError` when the video cannot be read or a frame index is past its end.
    public static func render(path: String, frames: [UsedFrame], height: Int = 64) throws -> (pixels: [UInt8], width: Int, height: Int) {
        let metadata = try VideoFile.probe(path: path)
        let aspect = metadata.height > 0 ? Double(metadata.width) / Double(metadata.height) : 4.0 / 3.0
        let tileHeight = max(8, height / 2 * 2)
        let tileWidth = max(8, min(4 * tileHeight, Int((Double(tileHeight) * aspect / 2).rounded()) * 2))
        let indices = Array(Set(frames.map(\.index))).sorted()
        let options = DecodeOptions(sampling: .indices(indices),
                                    format: FrameFormat(size: FrameSize(width: tileWidth, height: tileHeight), resize: .stretch),
                                    threads: 1)
        let decoded = try VideoReader(path: path, options: options).readAll()
        let sheet = ContactSheet.render(decoded, columns: max(1, decoded.count))
        return evenSized(sheet.pixels, width: sheet.width, height: sheet.height)
    }

    /// ``render(path:frames:height:)`` encoded as JPEG.
    public static func jpeg(path: String, frames: [UsedFrame], height: Int = 64, quality: Int = 75) throws -> [UInt8] {
        let strip = try render(path: path, frames: frames, height: height)
        return try ImageWriter.jpegData(pixels: strip.pixels, width: strip.width, height: strip.height, quality: quality)
    }

    /// Pads a picture by one dark column or row where its width or height is odd.
    static func evenSized(_ pixels: [UInt8], width: Int, height: Int) -> (pixels: [UInt8], width: Int, height: Int) {
        let w = width + width % 2, h = height + height % 2
        if w == width && h == height { return (pixels, width, height) }
        var out = [UInt8](repeating: 24, count: w * h * 3)
        for row in 0..<height {
            out.replaceSubrange(row * w * 3..<(row * w + width) * 3, with: pixels[row * width * 3..<(row + 1) * width * 3])
        }
        return (out, w, h)
    }
}
