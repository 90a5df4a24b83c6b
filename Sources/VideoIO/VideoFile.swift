import CFFmpeg

/// What a video file says about itself: container, codec, size, rate, length.
public struct VideoMetadata: Sendable, Hashable, Codable {
    /// Where a frame count comes from.
    public enum FrameCountSource: String, Sendable, Codable {
        /// The container's sample table (MP4/MOV), which is exact.
        case container
        /// Counted by reading every packet (no decoding).
        case demuxed
        /// Counted by decoding every frame.
        case decoded
    }

    /// The file, as given to ``VideoFile/probe(path:countFrames:)``.
    public var path: String
    /// The container format (`mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, ...).
    public var container: String
    /// The video codec (`h264`, `vp9`, ...).
    public var codec: String
    /// The codec profile (`High`, `Main 10`, ...) when known.
    public var profile: String?
    /// The decoder's pixel format (`yuv420p`, `yuv420p10le`, ...).
    public var pixelFormat: String
    /// Coded width in pixels, before rotation.
    public var codedWidth: Int
    /// Coded height in pixels, before rotation.
    public var codedHeight: Int
    /// Display width in pixels: the coded size after rotation.
    public var width: Int
    /// Display height in pixels: the coded size after rotation.
    public var height: Int
    /// Clockwise rotation applied for display, in degrees.
    public var rotation: Double
    /// Sample (pixel) aspect ratio as `num:den`, nil when square or unknown.
    public var sampleAspectRatio: String?
    /// Duration in seconds, when known.
    public var duration: Double?
    /// Average frame rate (frames / duration), when known.
    public var averageFrameRate: Double?
    /// The stream's base ("real") frame rate: the smallest rate all timestamps fit.
    public var realFrameRate: Double?
    /// Number of frames, when known.
    public var frameCount: Int?
    /// How ``frameCount`` was obtained; nil when it is unknown.
    public var frameCountSource: FrameCountSource?
    /// Whether frame durations vary.
    public var isVariableFrameRate: Bool
    /// Whether the file also has audio.
    public var hasAudio: Bool
    /// Overall bit rate in bits per second, when known.
    public var bitRate: Int?
}

/// Opening a file for its metadata.
public enum VideoFile {
    /// Reads a file's metadata.
    ///
    /// The frame count comes from the container when it is exact (MP4/MOV sample tables);
    /// otherwise every packet is read (fast, no decoding) or, with `countFrames`, every frame is
    /// decoded (exact for any file).
    /// - Throws: ``VideoIOError`` naming the file and the cause.
    public static func probe(path: String, countFrames: Bool = false) throws -> VideoMetadata {
        let input = try InputContext(path: path)
        let stream = try input.bestVideoStream()
        let parameters = stream.pointee.codecpar.pointee
        let info = StreamInfo(input: input, stream: stream)
        let transposed = info.transform.transposes
        func rate(_ r: AVRational) -> Double? { r.num > 0 && r.den > 0 ? Double(r.num) / Double(r.den) : nil }
        let average = rate(stream.pointee.avg_frame_rate)
        let real = rate(stream.pointee.r_frame_rate)
        var duration: Double?
        if input.pointer.pointee.duration > 0 {
            duration = Double(input.pointer.pointee.duration) / Double(AV_TIME_BASE)
        } else if stream.pointee.duration > 0 {
            duration = Double(stream.pointee.duration) * info.secondsPerTick
        }
        let sar = stream.pointee.sample_aspect_ratio.num > 0 ? stream.pointee.sample_aspect_ratio : parameters.sample_aspect_ratio
        let hasAudio = input.streams.contains { $0.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO }
        let container = input.formatName
        var metadata = VideoMetadata(
            path: path, container: container,
            codec: avcodec_get_name(parameters.codec_id).map { String(cString: $0) } ?? "unknown",
            profile: avcodec_profile_name(parameters.codec_id, parameters.profile).map { String(cString: $0) },
            pixelFormat: av_get_pix_fmt_name(AVPixelFormat(rawValue: parameters.format)).map { String(cString: $0) } ?? "unknown",
            codedWidth: Int(parameters.width), codedHeight: Int(parameters.height),
            width: Int(transposed ? parameters.height : parameters.width),
            height: Int(transposed ? parameters.width : parameters.height),
            rotation: info.rotation,
            sampleAspectRatio: sar.num > 0 && sar.den > 0 && sar.num != sar.den ? "\(sar.num):\(sar.den)" : nil,
            duration: duration, averageFrameRate: average, realFrameRate: real,
            frameCount: nil, frameCountSource: nil,
            isVariableFrameRate: false, hasAudio: hasAudio,
            bitRate: input.pointer.pointee.bit_rate > 0 ? Int(input.pointer.pointee.bit_rate) : nil)

        var timestamps: [Int64] = []
        if countFrames {
            let reader = try FrameReader(path: path, options: DecodeOptions(sampling: .all, allowSeeking: false))
            timestamps = try reader.allTimestamps()
            metadata.frameCount = timestamps.count
            metadata.frameCountSource = .decoded
        } else if container.contains("mp4") && stream.pointee.nb_frames > 0 {
            metadata.frameCount = Int(stream.pointee.nb_frames)
            metadata.frameCountSource = .container
        } else {
            // Every non-empty packet of the stream is a frame, with or without a time: AVI stores no pts for
            // MPEG-4 Part 2 with B-frames, and raw H.264/HEVC streams carry no times at all.
            input.discardAllStreams(except: stream)
            let packet = try Packet()
            var decodingTimestamps: [Int64] = []
            var frames = 0
            while try input.read(into: packet) {
                let p = packet.pointer.pointee
                if p.stream_index == stream.pointee.index && p.flags & AV_PKT_FLAG_DISCARD == 0 && p.size > 0 {
                    frames += 1
                    if p.pts != noTimestamp { timestamps.append(p.pts) }
                    if p.dts != noTimestamp { decodingTimestamps.append(p.dts) }
                }
                packet.unref()
            }
            // Frame spacing (for the variable-rate check) from whichever time every packet has.
            if timestamps.count < frames { timestamps = decodingTimestamps.count == frames ? decodingTimestamps : [] }
            timestamps.sort()
            metadata.frameCount = frames
            metadata.frameCountSource = .demuxed
        }
        if timestamps.count > 2 {
            let deltas = zip(timestamps.dropFirst(), timestamps).map { $0 - $1 }
            if let low = deltas.min(), let high = deltas.max() {
                metadata.isVariableFrameRate = Double(high - low) > max(1, 0.02 * Double(high))
            }
        } else if let average, let real {
            metadata.isVariableFrameRate = abs(average - real) / real > 0.01
        }
        if metadata.frameCount == 0 {
            throw VideoIOError(.noFrames, path: path, operation: "probe", message: "the video stream has no frames")
        }
        return metadata
    }
}

extension FrameReader {
    /// Decodes every remaining frame, returning timestamps only.
    func allTimestamps() throws -> [Int64] {
        var timestamps: [Int64] = []
        while let frame = try next() { timestamps.append(frame.timestamp) }
        return timestamps
    }
}
