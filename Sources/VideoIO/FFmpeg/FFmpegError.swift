import CFFmpeg
import Foundation

/// FFmpeg's return codes, with Swift names for the ones vidclass branches on.
enum AVErrorCode {
    /// `AVERROR(EAGAIN)`: the codec wants input before it can give output (or vice versa).
    static let tryAgain = CFFmpeg_AVERROR_EAGAIN()
    /// `AVERROR_EOF`: the end of the stream (or of the decoder's buffered frames).
    static let endOfFile = CFFmpeg_AVERROR_EOF()
    /// `AVERROR_INVALIDDATA`.
    static let invalidData = CFFmpeg_AVERROR_INVALIDDATA()
    /// `AVERROR_DECODER_NOT_FOUND`.
    static let decoderNotFound = CFFmpeg_AVERROR_DECODER_NOT_FOUND()
    /// `AVERROR_STREAM_NOT_FOUND`.
    static let streamNotFound = CFFmpeg_AVERROR_STREAM_NOT_FOUND()
    /// `AVERROR_ENCODER_NOT_FOUND`.
    static let encoderNotFound = CFFmpeg_AVERROR_ENCODER_NOT_FOUND()
    /// `AVERROR(ENOENT)`.
    static let noSuchFile = CFFmpeg_AVERROR(ENOENT)
    /// `AVERROR(EACCES)`.
    static let permissionDenied = CFFmpeg_AVERROR(EACCES)
    /// `AVERROR(ENOMEM)`.
    static let outOfMemory = CFFmpeg_AVERROR(ENOMEM)

    /// FFmpeg's message for a code (`av_strerror`).
    static func message(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        CFFmpeg_strerror(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The value of `AV_NOPTS_VALUE`: "no timestamp".
let noTimestamp = CFFmpeg_AV_NOPTS_VALUE()

/// Maps an FFmpeg failure to the public error, choosing the code from the C error number.
func makeError(_ ffmpegCode: Int32, path: String, operation: String, fallback: VideoIOError.Code = .other) -> VideoIOError {
    let code: VideoIOError.Code
    switch ffmpegCode {
    case AVErrorCode.noSuchFile: code = .notFound
    case AVErrorCode.permissionDenied: code = .permissionDenied
    case AVErrorCode.invalidData: code = operation == "open" ? .notAVideo : .corruptData
    case AVErrorCode.decoderNotFound: code = .unsupportedCodec
    case AVErrorCode.encoderNotFound: code = .unsupportedOutput
    case AVErrorCode.streamNotFound: code = .noVideoStream
    case CFFmpeg_AVERROR(EIO), CFFmpeg_AVERROR(ENOSPC): code = .ioError
    default: code = fallback
    }
    return VideoIOError(code, path: path, operation: operation, message: AVErrorCode.message(ffmpegCode),
                        ffmpegCode: ffmpegCode)
}

/// Turns a negative FFmpeg return code into a thrown ``VideoIOError``; returns non-negative codes.
@discardableResult
func check(_ result: Int32, path: String, operation: String, fallback: VideoIOError.Code = .other) throws -> Int32 {
    if result < 0 { throw makeError(result, path: path, operation: operation, fallback: fallback) }
    return result
}

/// FFmpeg logs to stderr by default; vidclass reports errors itself, so logging is off unless
/// `VIDCLASS_FFMPEG_LOG` names a level (`error`, `warning`, `info`, `debug`).
enum FFmpegLogging {
    static let configured: Void = {
        let level: Int32
        switch ProcessInfo.processInfo.environment["VIDCLASS_FFMPEG_LOG"] {
        case "error": level = AV_LOG_ERROR
        case "warning": level = AV_LOG_WARNING
        case "info": level = AV_LOG_INFO
        case "debug": level = AV_LOG_DEBUG
        default: level = AV_LOG_QUIET
        }
        av_log_set_level(level)
        // Network protocols (rtsp, http, udp, ...); devices only when an input names one.
        avformat_network_init()
    }()

    /// libavdevice's input formats (v4l2, lavfi, ...), opened the first time an input format is
    /// named (`CFFmpeg_register_devices`); whether they are available.
    static let devices: Bool = CFFmpeg_register_devices() == 0
}
