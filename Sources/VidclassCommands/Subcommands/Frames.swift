import ArgumentParser
import Foundation
import VideoClassification
import VideoIO

extension VidclassCommand {
    /// `vidclass frames FILE --sample uniform:16 --size 112 --output sheet.png`.
    struct Frames: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the frames a sampler picks: one contact sheet PNG, or one PNG per frame into a directory.")

        @Argument(help: "Video file.")
        var file: String

        @OptionGroup var frameOptions: FrameOptions

        @Option(help: "Write exactly the frames this model's network gets (its sampling, decode size and centered window, from the classifier's own code), instead of --sample/--size/--resize. 'default' names the embedded model.")
        var model: String?

        @Option(name: .shortAndLong,
                help: "A .png file for a contact sheet, or a directory (ending in '/') for one PNG per frame.")
        var output: String?

        @Flag(help: "Print each frame's RGB24 MD5 (as `ffmpeg -f framemd5 -pix_fmt rgb24` does).")
        var md5 = false

        @Option(help: "Contact sheet columns (default: about square).")
        var columns: Int?

        @Option(help: "With --model: a contact sheet of N frames spread over the whole video (as decoded for the model), with the frames the model uses among them marked in orange.")
        var overview: Int?

        @Flag(help: .hidden)
        var printPeakMemory = false

        func validate() throws {
            if let columns, columns <= 0 { throw ValidationError("--columns must be positive") }
            if let overview {
                if overview <= 0 || overview > 10_000 { throw ValidationError("--overview must be between 1 and 10000") }
                if model == nil { throw ValidationError("--overview needs --model (the frames it marks are the model's)") }
                if output == nil || output!.hasSuffix("/") { throw ValidationError("--overview writes one contact sheet: give --output FILE.png") }
            }
        }

        func run() async throws {
            var frames: [VideoFrame]
            var marked = Set<Int>()
            if let model, let overview {
                let card = try (model == "default" ? DefaultModel.load() : VideoModel(contentsOf: model)).card
                var options = Preprocessor(card.input).decodeOptions()
                let used = try VideoReader(path: file, options: options).readAll()
                options.sampling = .uniform(overview)
                let spread = try VideoReader(path: file, options: options).readAll()
                marked = Set(used.map(\.index))
                frames = (used + spread.filter { !marked.contains($0.index) }).sorted { $0.index < $1.index }
            } else if let model {
                let card = try (model == "default" ? DefaultModel.load() : VideoModel(contentsOf: model)).card
                let preprocessor = Preprocessor(card.input)
                frames = preprocessor.networkFrames(try VideoReader(path: file, options: preprocessor.decodeOptions()).readAll())
            } else {
                frames = try VideoReader(path: file, options: try frameOptions.decodeOptions()).readAll()
            }
            guard !frames.isEmpty else {
                throw ValidationError("\(file): the sampler picked no frames")
            }
            if let output { try write(frames, marked: marked, to: output) }
            if printPeakMemory {
                print("peak-memory-bytes \(peakResidentBytes())")
                return
            }
            for frame in frames {
                let hash = md5 ? "  " + frame.md5 : ""
                print(String(format: "frame %6d  t=%9.3fs", frame.index, frame.time) + hash + (frame.isCorrupt ? "  (damaged)" : ""))
            }
        }

        private func write(_ frames: [VideoFrame], marked: Set<Int>, to output: String) throws {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory)
            if output.hasSuffix("/") || (exists && isDirectory.boolValue) {
                try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
                for frame in frames {
                    let name = (output as NSString).appendingPathComponent(String(format: "frame_%06d.png", frame.index))
                    try ImageWriter.writePNG(pixels: frame.pixels, width: frame.width, height: frame.height, to: name)
                }
                print("wrote \(frames.count) frames to \(output)")
            } else {
                let sheet = ContactSheet.render(frames, columns: columns, marked: marked)
                try ImageWriter.writePNG(pixels: sheet.pixels, width: sheet.width, height: sheet.height, to: output)
                print("wrote a \(sheet.width)x\(sheet.height) contact sheet of \(frames.count) frames to \(output)"
                      + (marked.isEmpty ? "" : ", the \(marked.count) the model uses marked in orange"))
            }
        }
    }
}
