import CFFmpeg

/// Facts about a video stream derived from its container, shared by probing and decoding.
struct StreamInfo {
    let transform: DisplayTransform
    /// Clockwise degrees the picture is turned for display (0, 90, 180, 270, or other).
    let rotation: Double
    let secondsPerTick: Double
    /// The timestamp that is time zero: the file's start time (as `ffmpeg` subtracts it).
    let startTimestamp: Int64
    /// Seconds per frame from the stream's frame rate (1/25 when unknown, as `ffmpeg` assumes).
    let frameDuration: Double

    init(input: InputContext, stream: UnsafeMutablePointer<AVStream>) {
        let matrix = CFFmpeg_stream_display_matrix(stream)
        var theta = 0.0
        if let matrix {
            theta = -av_display_rotation_get(matrix).rounded()
            if theta.isNaN { theta = 0 }
            theta -= 360 * (theta / 360 + 0.9 / 360).rounded(.down)
        }
        self.rotation = theta
        self.transform = DisplayTransform(displayMatrix: matrix, rotation: theta)
        let timeBase = stream.pointee.time_base
        self.secondsPerTick = timeBase.den != 0 ? Double(timeBase.num) / Double(timeBase.den) : 0
        let rate = stream.pointee.avg_frame_rate.num > 0 ? stream.pointee.avg_frame_rate : stream.pointee.r_frame_rate
        self.frameDuration = rate.num > 0 && rate.den > 0 ? Double(rate.den) / Double(rate.num) : 1.0 / 25
        let fileStart = input.pointer.pointee.start_time
        if fileStart != noTimestamp {
            startTimestamp = av_rescale_q(fileStart, CFFmpeg_AV_TIME_BASE_Q(), timeBase)
        } else if stream.pointee.start_time != noTimestamp {
            startTimestamp = stream.pointee.start_time
        } else {
            startTimestamp = 0
        }
    }
}
