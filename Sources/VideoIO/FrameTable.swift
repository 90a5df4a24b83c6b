import CFFmpeg

/// The video stream's packets in decode order and the frames they become in presentation order,
/// read by one demux-only pass (no decoding). It lets a reader map a frame index to the packet
/// that carries it, seek to keyframes that start a clean group of pictures, and skip packets no
/// other frame depends on — and still return exactly the frames sequential decoding returns.
///
/// It is only built when every packet has a distinct presentation timestamp and the codec
/// turns one packet into one frame; otherwise readers decode sequentially.
struct FrameTable {
    struct PacketInfo {
        var pts: Int64
        var dts: Int64
        var isKeyframe: Bool
        /// No other picture references this one (H.264 `nal_ref_idc == 0` on every NAL unit).
        var isDisposable: Bool
        /// The demuxer marks it to be decoded but not shown (edit-list pre-roll).
        var isDiscarded: Bool
    }

    // Compact on purpose (about 48 bytes a frame): an hour of 30 fps video is 108,000 frames.
    var packets: [PacketInfo] = []
    /// Frame index (presentation order) to packet index (decode order).
    var frameToPacket: [Int32] = []
    /// Packet index to frame index, or -1 for discarded packets.
    var packetToFrame: [Int32] = []
    /// Frame index to presentation timestamp (ascending).
    var frameTimestamps: [Int64] = []
    /// For each packet, the nearest clean keyframe at or before it, or -1.
    var seekPointBefore: [Int32] = []
    /// Packet indices in presentation-timestamp order (discarded packets included).
    var packetsByTimestamp: [Int32] = []

    /// The frame with presentation timestamp `pts`, if any.
    func frame(withTimestamp pts: Int64) -> Int? {
        var low = 0, high = frameTimestamps.count
        while low < high {
            let mid = (low + high) / 2
            if frameTimestamps[mid] < pts { low = mid + 1 } else { high = mid }
        }
        return low < frameTimestamps.count && frameTimestamps[low] == pts ? low : nil
    }

    /// The packet with presentation timestamp `pts`, if any.
    func packet(withTimestamp pts: Int64) -> Int? {
        var low = 0, high = packetsByTimestamp.count
        while low < high {
            let mid = (low + high) / 2
            if packets[Int(packetsByTimestamp[mid])].pts < pts { low = mid + 1 } else { high = mid }
        }
        guard low < packetsByTimestamp.count else { return nil }
        let index = Int(packetsByTimestamp[low])
        return packets[index].pts == pts ? index : nil
    }

    var frameCount: Int { frameTimestamps.count }

    /// Codecs for which one packet is one frame in the containers FFmpeg demuxes.
    static let oneFramePerPacket: Set<AVCodecID> = [
        AV_CODEC_ID_H264, AV_CODEC_ID_HEVC, AV_CODEC_ID_VP9, AV_CODEC_ID_AV1, AV_CODEC_ID_MJPEG,
        AV_CODEC_ID_PRORES, AV_CODEC_ID_MPEG1VIDEO, AV_CODEC_ID_MPEG2VIDEO, AV_CODEC_ID_THEORA,
        AV_CODEC_ID_H263, AV_CODEC_ID_MSMPEG4V3, AV_CODEC_ID_PNG,
    ]

    /// Reads every packet of `stream` from the start. Returns nil when the stream's timestamps
    /// cannot identify frames (missing or repeated, a codec that may emit zero or two frames
    /// per packet, interlaced fields in separate packets).
    static func build(input: InputContext, stream: UnsafeMutablePointer<AVStream>) throws -> FrameTable? {
        let parameters = stream.pointee.codecpar!.pointee
        guard oneFramePerPacket.contains(parameters.codec_id) else { return nil }
        let fieldOrder = parameters.field_order
        if fieldOrder != AV_FIELD_UNKNOWN && fieldOrder != AV_FIELD_PROGRESSIVE
            && parameters.codec_id != AV_CODEC_ID_MJPEG && parameters.codec_id != AV_CODEC_ID_PRORES {
            return nil
        }
        let nalParser = parameters.codec_id == AV_CODEC_ID_H264
            ? H264NALScanner(extradata: parameters.extradata, size: Int(parameters.extradata_size)) : nil
        var table = FrameTable()
        let packet = try Packet()
        let index = stream.pointee.index
        while try input.read(into: packet) {
            defer { packet.unref() }
            let p = packet.pointer.pointee
            guard p.stream_index == index else { continue }
            if p.pts == noTimestamp { return nil }
            let disposable = nalParser?.isDisposable(p.data, Int(p.size)) ?? false
            table.packets.append(PacketInfo(pts: p.pts, dts: p.dts == noTimestamp ? p.pts : p.dts,
                                            isKeyframe: p.flags & AV_PKT_FLAG_KEY != 0,
                                            isDisposable: disposable,
                                            isDiscarded: p.flags & AV_PKT_FLAG_DISCARD != 0))
        }
        guard table.finish() else { return nil }
        return table
    }

    /// Derives the frame order and the clean seek points; false if timestamps repeat.
    mutating func finish() -> Bool {
        packetsByTimestamp = (0..<Int32(packets.count)).sorted { packets[Int($0)].pts < packets[Int($1)].pts }
        for i in packetsByTimestamp.indices.dropFirst()
        where packets[Int(packetsByTimestamp[i])].pts == packets[Int(packetsByTimestamp[i - 1])].pts {
            return false
        }
        frameToPacket = packetsByTimestamp.filter { !packets[Int($0)].isDiscarded }
        packetToFrame = Array(repeating: -1, count: packets.count)
        frameTimestamps = frameToPacket.map { packets[Int($0)].pts }
        for (frame, packet) in frameToPacket.enumerated() {
            packetToFrame[Int(packet)] = Int32(frame)
        }
        // A keyframe is a clean seek point when every packet before it (decode order) is shown
        // before it and none after it is: decoding from it yields exactly the later frames.
        var suffixMin = Array(repeating: Int64.max, count: packets.count + 1)
        for i in stride(from: packets.count - 1, through: 0, by: -1) {
            suffixMin[i] = min(suffixMin[i + 1], packets[i].pts)
        }
        seekPointBefore = Array(repeating: -1, count: packets.count)
        var prefixMax = Int64.min, last: Int32 = -1
        for i in packets.indices {
            let p = packets[i]
            if p.isKeyframe && !p.isDiscarded && prefixMax < p.pts && suffixMin[i] == p.pts { last = Int32(i) }
            seekPointBefore[i] = last
            prefixMax = max(prefixMax, p.pts)
        }
        return true
    }
}

/// Finds whether an H.264 packet is disposable: every NAL unit has `nal_ref_idc == 0`, so no
/// other picture references it. Handles length-prefixed (avcC) and Annex B packets.
struct H264NALScanner {
    /// Bytes of the NAL length prefix (avcC), or nil for Annex B start codes.
    let lengthSize: Int?

    init(extradata: UnsafeMutablePointer<UInt8>?, size: Int) {
        if let extradata, size >= 7, extradata[0] == 1 {
            lengthSize = Int(extradata[4] & 3) + 1
        } else {
            lengthSize = nil
        }
    }

    func isDisposable(_ data: UnsafeMutablePointer<UInt8>?, _ size: Int) -> Bool {
        guard let data, size > 0 else { return false }
        var sawSlice = false
        var ok = true
        forEachNALHeader(data, size) { header in
            let refIdc = (header >> 5) & 3, type = header & 0x1f
            if refIdc != 0 { ok = false }
            if type == 1 { sawSlice = true }
            if type == 5 || type == 7 || type == 8 || type == 20 || type == 14 { ok = false }
        }
        return ok && sawSlice
    }

    private func forEachNALHeader(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ body: (UInt8) -> Void) {
        if let lengthSize {
            var offset = 0
            while offset + lengthSize < size {
                var length = 0
                for i in 0..<lengthSize { length = length << 8 | Int(data[offset + i]) }
                offset += lengthSize
                guard length > 0, offset + length <= size else { body(0x60); return }  // malformed: not disposable
                body(data[offset])
                offset += length
            }
        } else {
            var i = 0
            while i + 3 < size {
                if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
                    body(data[i + 3])
                    i += 3
                } else {
                    i += 1
                }
            }
        }
    }
}
