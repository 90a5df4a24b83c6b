/// Where the scaler reads from and writes to, for one source size and one requested format.
struct ScalePlan: Equatable {
    /// The source window, in coded (pre-rotation) coordinates.
    var cropX = 0, cropY = 0, cropWidth: Int, cropHeight: Int
    /// The scaled picture's size in coded orientation.
    var scaledWidth: Int, scaledHeight: Int
    /// The output canvas (display orientation) and where the rotated picture goes on it.
    var outputWidth: Int, outputHeight: Int
    var offsetX = 0, offsetY = 0

    init(codedWidth: Int, codedHeight: Int, transform: DisplayTransform, format: FrameFormat) {
        let t = transform.transposes
        let displayWidth = t ? codedHeight : codedWidth
        let displayHeight = t ? codedWidth : codedHeight
        var cropW = displayWidth, cropH = displayHeight
        var scaledW = displayWidth, scaledH = displayHeight
        var outW = displayWidth, outH = displayHeight
        var offX = 0, offY = 0
        if let size = format.size {
            outW = size.width
            outH = size.height
            switch format.resize {
            case .stretch:
                scaledW = outW; scaledH = outH
            case .crop:
                let shortSide = Double(format.shortSide ?? max(outW, outH))
                let factor = max(shortSide / Double(min(displayWidth, displayHeight)),
                                 Double(outW) / Double(displayWidth), Double(outH) / Double(displayHeight))
                cropW = min(displayWidth, max(1, Int((Double(outW) / factor).rounded())))
                cropH = min(displayHeight, max(1, Int((Double(outH) / factor).rounded())))
                scaledW = outW; scaledH = outH
            case .letterbox:
                let factor = min(Double(outW) / Double(displayWidth), Double(outH) / Double(displayHeight))
                scaledW = min(outW, max(1, Int((Double(displayWidth) * factor).rounded())))
                scaledH = min(outH, max(1, Int((Double(displayHeight) * factor).rounded())))
                offX = (outW - scaledW) / 2
                offY = (outH - scaledH) / 2
            }
        }
        // Centered windows are symmetric, so flips leave them unchanged; transposes swap the axes.
        let cropX = (displayWidth - cropW) / 2, cropY = (displayHeight - cropH) / 2
        self.cropX = t ? cropY : cropX
        self.cropY = t ? cropX : cropY
        self.cropWidth = t ? cropH : cropW
        self.cropHeight = t ? cropW : cropH
        self.scaledWidth = t ? scaledH : scaledW
        self.scaledHeight = t ? scaledW : scaledH
        self.outputWidth = outW
        self.outputHeight = outH
        self.offsetX = offX
        self.offsetY = offY
    }
}
