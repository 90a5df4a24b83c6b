import Tensors

/// What a clip's label becomes when the clip is mirrored left to right, read from the labels' words.
///
/// A horizontal flip turns leftward motion into rightward motion and clockwise turning into
/// counterclockwise; everything else (up and down, growing, fighting) keeps its label. So a flipped
/// training clip is only a true example if its label changes with it: `move_left` becomes
/// `move_right`, `Turning Hand Clockwise` becomes `Turning Hand Counterclockwise`.
///
/// Labels are split into lowercase words (at anything but letters and digits, and at lower-to-upper
/// case changes: `swipeLeft` is `swipe left`); `counter clockwise`, `counter-clockwise` and
/// `anti clockwise` count as one word. The directional words are left/right, leftward(s)/rightward(s),
/// clockwise/counterclockwise/anticlockwise and cw/ccw. A label's mirror is the label whose words are
/// its own with each directional word replaced by its opposite.
public struct MirroredLabels: Sendable, Equatable {
    /// For each label index, the index of its mirror image (itself when it names no direction).
    public let mirror: [Int]

    /// The mirror map of `labels`, or nil when some label names a horizontal direction and no label
    /// names the opposite one (flipped clips of it would have no true label).
    public init?(_ labels: [String]) {
        let words = labels.map(Self.words)
        var index: [[String]: Int] = [:]
        for (i, w) in words.enumerated() where index[w] == nil { index[w] = i }
        var mirror: [Int] = []
        for (i, w) in words.enumerated() {
            guard w.contains(where: { Self.opposites[$0] != nil }) else {
                mirror.append(i)
                continue
            }
            // Every way of replacing each directional word with one of its opposites.
            var candidates: [[String]] = [[]]
            for word in w {
                let choices = Self.opposites[word] ?? [word]
                candidates = candidates.flatMap { prefix in choices.map { prefix + [$0] } }
            }
            guard let j = candidates.lazy.compactMap({ index[$0] }).first else { return nil }
            mirror.append(j)
        }
        self.mirror = mirror
    }

    /// Whether every label is its own mirror (flips change no label).
    public var isIdentity: Bool { mirror.enumerated().allSatisfy { $0.offset == $0.element } }

    /// The label a clip of `label` has once mirrored.
    public subscript(label: Int) -> Int { mirror[label] }

    private static let opposites: [String: [String]] = [
        "left": ["right"], "right": ["left"],
        "leftward": ["rightward"], "rightward": ["leftward"],
        "leftwards": ["rightwards"], "rightwards": ["leftwards"],
        "clockwise": ["counterclockwise", "anticlockwise"],
        "counterclockwise": ["clockwise"], "anticlockwise": ["clockwise"],
        "cw": ["ccw"], "ccw": ["cw"],
    ]

    /// A label's lowercase words (see the type's documentation).
    static func words(_ label: String) -> [String] {
        var words: [String] = [], current = ""
        var previousWasLower = false
        for character in label {
            guard character.isLetter || character.isNumber else {
                if !current.isEmpty { words.append(current) }
                current = ""
                previousWasLower = false
                continue
            }
            if character.isUppercase && previousWasLower && !current.isEmpty {
                words.append(current)
                current = ""
            }
            current += character.lowercased()
            previousWasLower = character.isLowercase
        }
        if !current.isEmpty { words.append(current) }
        // "counter clockwise", "anti-clockwise": one word.
        var joined: [String] = []
        for word in words {
            if word == "clockwise", let last = joined.last, last == "counter" || last == "anti" {
                joined[joined.count - 1] = last + word
            } else {
                joined.append(word)
            }
        }
        return joined
    }
}

extension MirroredLabels {
    /// Clips `[B, T, C, H, W]` (or any tensor) mirrored left to right: every row of the last axis
    /// reversed. Pixel-wise inputs (frames, their differences) commute with the mirror, so this is
    /// the input of the mirrored frames.
    public static func mirrored(_ clips: Tensor) -> Tensor {
        let width = clips.shape.last ?? 1
        var out = Tensor(shape: clips.shape)
        clips.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { destination in
                for start in stride(from: 0, to: source.count, by: max(1, width)) {
                    for x in 0..<width { destination[start + x] = source[start + width - 1 - x] }
                }
            }
        }
        return out
    }

    /// A mirrored clip's probabilities read as the original clip's: label `i` gets the mirrored
    /// clip's probability of label `mirror[i]`.
    public func unmirrored(_ probabilities: [Double]) -> [Double] {
        mirror.map { probabilities[$0] }
    }
}
