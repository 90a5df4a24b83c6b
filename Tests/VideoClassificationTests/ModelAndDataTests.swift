import Foundation
import NeuralNetwork
import Tensors
import Testing
import VideoClassification
import VideoIO
import VidclassTestSupport

/// A tiny model card (fast in debug builds).
func tinyCard(labels: [String] = ["a", "b", "c"], representation: InputSpecification.Representation = .diff,
              head: ModelDescription.Head = .lastStep) -> ModelCard {
    ModelCard(name: "tiny",
              architecture: ModelDescription(backbone: .small, numClasses: labels.count, smallChannels: [4, 8],
                                             hiddenSize: 8, head: head, inputChannels: representation.channels),
              labels: labels, input: InputSpecification(representation: representation, framesPerClip: 4, size: 16, shortSide: 20))
}

/// Synthetic frames: a bright square moving right on grey, `count` frames of `side`².
func movingSquare(count: Int, side: Int = 20, step: Int = 2) -> [VideoFrame] {
    (0..<count).map { n in
        var pixels = [UInt8](repeating: 100, count: side * side * 3)
        for y in 6..<12 { for x in (n * step)..<min(side, n * step + 6) { for c in 0..<3 { pixels[(y * side + x) * 3 + c] = 220 } } }
        return VideoFrame(index: n, time: Double(n) / 10, timestamp: Int64(n), width: side, height: side, pixels: pixels)
    }
}

struct ModelFileTests {
    @Test func roundTripKeepsCardAndOutputs() throws {
        let model = VideoModel(card: tinyCard(), seed: 3)
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("m.safetensors").path
        try model.save(to: path)
        let loaded = try VideoModel(contentsOf: path)
        #expect(loaded.card == model.card)
        #expect(loaded.hash.count == 12)
        // Memory-mapped (a file) and copied (bytes) loading agree, and the hash is the file's MD5.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try VideoModel(bytes: bytes, path: path).hash == loaded.hash)
        #expect(loaded.hash == String(MD5.hex(of: bytes).prefix(12)))
        let clip = Preprocessor(model.card.input).tensor(movingSquare(count: 5))
        let a = VideoClassifier(model: model).probabilities(clip)[0]
        let b = VideoClassifier(model: loaded).probabilities(clip)[0]
        #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(abs(a.reduce(0, +) - 1) < 1e-5)
    }

    @Test func theCardReadsFromTheHeaderAlone() throws {
        let model = VideoModel(card: tinyCard(), seed: 3)
        let directory = try TestPaths.temporaryDirectory()
        let path = directory.appendingPathComponent("m.safetensors").path
        try model.save(to: path)
        #expect(VideoModel.card(atPath: path) == model.card)
        // Damaged headers, a missing file and a bare state_dict give nil (the full load says why).
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let damaged: [[UInt8]] = [Array(bytes.prefix(5)), [255, 255, 255, 255, 255, 255, 255, 127] + bytes.dropFirst(8),
                                  Array(bytes.prefix(8)) + [UInt8](repeating: 0x7b, count: 40) + bytes.dropFirst(48),
                                  SafeTensors.encode([("w", Tensor(shape: [2]))])]
        for (i, file) in damaged.enumerated() {
            let bad = directory.appendingPathComponent("bad\(i).safetensors").path
            try Data(file).write(to: URL(fileURLWithPath: bad))
            #expect(VideoModel.card(atPath: bad) == nil, "damage \(i)")
        }
        #expect(VideoModel.card(atPath: directory.appendingPathComponent("missing").path) == nil)
        #expect(VideoModel.card(atPath: "/dev/zero") == nil, "not a regular file: left alone")
    }

    @Test func aModelReadsFromAPipe() throws {
        let model = VideoModel(card: tinyCard(), seed: 3)
        let directory = try TestPaths.temporaryDirectory()
        let file = directory.appendingPathComponent("m.safetensors").path, fifo = directory.appendingPathComponent("pipe").path
        try model.save(to: file)
        #expect(mkfifo(fifo, 0o600) == 0)
        let writer = Thread {
            if let bytes = FileManager.default.contents(atPath: file), let handle = FileHandle(forWritingAtPath: fifo) {
                handle.write(bytes)
                try? handle.close()
            }
        }
        writer.start()
        #expect(VideoModel.card(atPath: fifo) == nil, "the header of a pipe is left to the full load")
        let loaded = try VideoModel(contentsOf: fifo)
        #expect(loaded.card == model.card)
    }

    @Test func decodingStartedBeforeTheClassifierGivesTheSameScores() throws {
        let path = TestPaths.fixture("synthetic") + "/move_right/move_right_0000.webm"
        let model = VideoModel(card: tinyCard(), seed: 5)
        let decoding = try ClipDecoding(path: path, input: model.card.input)
        let classifier = VideoClassifier(model: model)
        let early = try classifier.classify(decoding)
        let plain = try classifier.classify(path: path)
        #expect(early.scores == plain.scores)
        #expect(early.frames == plain.frames)
        #expect(throws: VideoIOError.self) { try ClipDecoding(path: path + ".missing", input: model.card.input) }
    }

    @Test func aSmallFileCannotDeclareAHugeNetwork() throws {
        let model = VideoModel(card: tinyCard(), seed: 1)
        var huge = model.card
        huge.architecture.smallChannels = Array(repeating: 2048, count: 8)
        huge.architecture.hiddenSize = 8192
        #expect(huge.problem() == nil, "within the card's bounds")
        #expect(huge.architecture.minimumParameterCount > 200_000_000)
        let started = ContinuousClock.now
        do {
            _ = try VideoModel(bytes: try model.encoded(card: huge), path: "huge.safetensors")
            Issue.record("a huge network from a tiny file was accepted")
        } catch let error as VideoClassificationError {
            #expect("\(error)".contains("needs at least"), "\(error)")
        }
        #expect(ContinuousClock.now - started < .seconds(2), "refused before building anything")
        // Every real model holds at least what its card needs.
        for name in ["pytorch/tiny_lstm_rgb.safetensors", "pytorch/tiny_gru_rgbdiff_bidir.safetensors"] {
            _ = try VideoModel(contentsOf: TestPaths.fixture(name))
        }
        for description in [ModelDescription.lrcnSmall(), .lrcnResNet18()] {
            let count = LRCN(description).namedParameters().reduce(0) { $0 + $1.1.value.count }
            #expect(description.minimumParameterCount <= count && count < description.minimumParameterCount * 2, "\(description.backbone)")
        }
    }

    @Test func badModelFilesAreTypedErrors() throws {
        let directory = try TestPaths.temporaryDirectory()
        func expectInvalid(_ bytes: [UInt8], _ fragment: String) throws {
            let path = directory.appendingPathComponent(UUID().uuidString + ".safetensors").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                _ = try VideoModel(contentsOf: path)
                Issue.record("expected an error mentioning '\(fragment)'")
            } catch let error as VideoClassificationError {
                #expect(error.code == .invalidModel)
                #expect(error.description.hasPrefix(path))
                #expect(error.description.contains(fragment), "\(error)")
            }
        }
        try expectInvalid(Array("hello".utf8), "not a safetensors file")
        try expectInvalid([], "not a safetensors file")
        // A valid safetensors file without the vidclass description.
        try expectInvalid(SafeTensors.encode([("w", Tensor(shape: [2]))]), "no 'vidclass' description")
        // A description that does not parse, and one that contradicts itself.
        try expectInvalid(SafeTensors.encode([("w", Tensor(shape: [2]))], metadata: ["vidclass": "{not json"]), "not valid")
        var card = tinyCard()
        card.labels = ["only-one"]
        let json = String(decoding: try JSONEncoder().encode(card), as: UTF8.self)
        try expectInvalid(SafeTensors.encode([("w", Tensor(shape: [2]))], metadata: ["vidclass": json]), "1 labels for 3 outputs")
        // Weights that do not fit the architecture.
        let good = String(decoding: try JSONEncoder().encode(tinyCard()), as: UTF8.self)
        try expectInvalid(SafeTensors.encode([("w", Tensor(shape: [2]))], metadata: ["vidclass": good]), "weights do not fit")
        #expect(throws: VideoClassificationError.self) { try VideoModel(contentsOf: "/nonexistent/model.safetensors") }
    }
}

struct PreprocessingTests {
    @Test func differencesAndNormalization() {
        let spec = InputSpecification(representation: .rgbDiff, framesPerClip: 3, size: 16, shortSide: 20,
                                      mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])
        let frames = movingSquare(count: 4)
        let t = Preprocessor(spec).tensor(frames)
        #expect(t.shape == [1, 3, 6, 16, 16])
        let values = t.withUnsafeBufferPointer { Array($0) }
        let plane = 16 * 16
        // Center crop: output (x, y) is decoded (x + 2, y + 2). Step 0 shows frame 1 and frame 1 − frame 0.
        func value(step: Int, channel: Int, x: Int, y: Int) -> Float { values[(step * 6 + channel) * plane + y * 16 + x] }
        let background = (Float(100) / 255 - 0.5) / 0.25
        #expect(abs(value(step: 0, channel: 0, x: 15, y: 0) - background) < 1e-5)
        // Frame 1 covers x 2..<8, frame 0 covers 0..<6: decoded x = 7 is new in frame 1 (output x = 5).
        #expect(abs(value(step: 0, channel: 3, x: 5, y: 6) - (Float(220 - 100) / 255) / 0.25) < 1e-5)
        #expect(abs(value(step: 0, channel: 3, x: 15, y: 15)) < 1e-6)
        // Decoded x = 0..1 left the square in frame 1: negative difference (output x would be -2..-1, outside); check x = 2 → 0.
        #expect(value(step: 0, channel: 4, x: 0, y: 6) == 0)
    }

    /// `stretch` keeps the whole frame (the sides of a wide frame too); `crop` keeps its centre.
    @Test func stretchKeepsTheWholeFrame() throws {
        // 40×20: a red left quarter, a blue right quarter, grey in between.
        var pixels = [UInt8](repeating: 128, count: 40 * 20 * 3)
        for y in 0..<20 {
            for x in 0..<10 { pixels[(y * 40 + x) * 3] = 255 }
            for x in 30..<40 { pixels[(y * 40 + x) * 3 + 2] = 255 }
        }
        let frame = VideoFrame(index: 0, time: 0, timestamp: 0, width: 40, height: 20, pixels: pixels)
        var input = InputSpecification(framesPerClip: 1, size: 16, shortSide: 20)
        func color(_ f: VideoFrame, x: Int, y: Int) -> [UInt8] { Array(f.pixels[((y * f.width + x) * 3)..<((y * f.width + x) * 3 + 3)]) }
        let cropped = Preprocessor(input).resampled(frame)
        #expect(cropped.width == 20 && color(cropped, x: 0, y: 10) == [128, 128, 128], "the centre square has no red")
        input.resize = .stretch
        let stretched = Preprocessor(input).resampled(frame)
        #expect(stretched.width == 20 && stretched.height == 20)
        #expect(color(stretched, x: 1, y: 10) == [255, 128, 128] && color(stretched, x: 18, y: 10) == [128, 128, 255])
        #expect(input.decodeFormat.resize == .stretch && input.decodeFormat.size == FrameSize(20))
        // The model file keeps it.
        let decoded = try JSONDecoder().decode(InputSpecification.self, from: JSONEncoder().encode(input))
        #expect(decoded.resize == .stretch && decoded == input)
    }

    @Test func shortVideosRepeatTheirLastFrame() {
        let spec = InputSpecification(representation: .rgb, framesPerClip: 6, size: 16, shortSide: 20)
        let fitted = Preprocessor(spec).fitted(movingSquare(count: 2))
        #expect(fitted.map(\.index) == [0, 1, 1, 1, 1, 1])
    }

    @Test func augmentationStaysInside() {
        var rng = SplitMix64(seed: 5)
        let spec = InputSpecification(representation: .diff, framesPerClip: 4, size: 16, shortSide: 20)
        for _ in 0..<200 {
            let a = Preprocessor.Augmentation.random(for: spec, flips: true, using: &rng)
            #expect(a.cropSide >= 13 && a.cropSide <= 20)
            #expect(a.cropX >= 0 && a.cropX + a.cropSide <= 20 && a.cropY >= 0 && a.cropY + a.cropSide <= 20)
        }
        let t = Preprocessor(spec).tensor(movingSquare(count: 5), augmentation: Preprocessor.Augmentation.random(for: spec, flips: true, using: &rng))
        #expect(t.withUnsafeBufferPointer { $0.allSatisfy(\.isFinite) })
    }
}

struct DatasetTests {
    static func makeFolder(_ layout: [String: Int]) throws -> String {
        let root = try TestPaths.temporaryDirectory("dataset").path
        for (label, count) in layout {
            try FileManager.default.createDirectory(atPath: root + "/" + label, withIntermediateDirectories: true)
            for n in 0..<count {
                #expect(FileManager.default.createFile(atPath: "\(root)/\(label)/src\(n % 3)_clip\(n).mp4", contents: Data([0])))
            }
        }
        return root
    }

    @Test func folderLayoutAndErrors() throws {
        let folder = try Self.makeFolder(["fight": 6, "calm": 4])
        #expect(FileManager.default.createFile(atPath: folder + "/calm/notes.txt", contents: Data([0])))
        #expect(FileManager.default.createFile(atPath: folder + "/calm/raw.y4m", contents: Data([0])))
        #expect(FileManager.default.createFile(atPath: folder + "/calm/.hidden.mp4", contents: Data([0])))
        let data = try VideoDataset.load(folder)
        #expect(data.labels == ["calm", "fight"])
        #expect(data.clips.count == 11 && data.clips.contains { $0.path.hasSuffix("/calm/raw.y4m") })
        #expect(data.ignoredFiles == [folder + "/calm/notes.txt"], "other files are counted, hidden ones skipped")
        #expect { try VideoDataset.load(try Self.makeFolder(["only": 3])) } throws: { error in
            "\(error)".contains("needs at least two classes, found 1 (only)")
        }
        let withEmpty = try Self.makeFolder(["a": 3, "b": 2, "empty": 0])
        #expect { try VideoDataset.load(withEmpty) } throws: { error in
            "\(error)".contains(withEmpty) && "\(error)".contains("class folder with no videos: empty")
        }
        #expect(throws: VideoClassificationError.self) { try VideoDataset.load("/nonexistent/dataset") }
    }

    @Test func csvLayoutAndMissingFiles() throws {
        let root = try Self.makeFolder(["x": 2, "y": 2])
        let csv = root + "/list.csv"
        try "path,label,split\nx/src0_clip0.mp4,x,train\nx/src1_clip1.mp4,x,validation\ny/src0_clip0.mp4,y,\ny/src1_clip1.mp4,y,val\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let data = try VideoDataset.load(csv)
        #expect(data.clips.count == 4 && data.labels == ["x", "y"])
        let split = try data.split(validationFraction: 0.2, seed: 1)
        #expect(split.validation.map { data.clips[$0].path.hasSuffix("clip1.mp4") } == [true, true])
        #expect(split.train.count == 2 && split.test.isEmpty)
        // A test split is kept apart from validation; an unknown split name is an error.
        try "path,label,split\nx/src0_clip0.mp4,x,train\nx/src1_clip1.mp4,x,test\ny/src0_clip0.mp4,y,val\ny/src1_clip1.mp4,y,\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let withTest = try VideoDataset.load(csv).split(validationFraction: 0.2, seed: 1)
        #expect(withTest.train == [0, 3] && withTest.validation == [2] && withTest.test == [1])
        try "path,label,split\nx/src0_clip0.mp4,x,tarin\ny/src0_clip0.mp4,y,val\n".write(toFile: csv, atomically: true, encoding: .utf8)
        #expect { try VideoDataset.load(csv).split(validationFraction: 0.2, seed: 1) } throws: { error in
            "\(error)".contains("split 'tarin' is not train, validation or test")
        }
        // Lists of validation and test clips (relative or absolute paths) mark the folder's clips.
        var listed = try VideoDataset.load(root)
        let validationList = root + "/val.txt", testList = root + "/test.txt"
        try "path\nx/src0_clip0.mp4\n".write(toFile: validationList, atomically: true, encoding: .utf8)
        try "\(root)/y/src1_clip1.mp4\n".write(toFile: testList, atomically: true, encoding: .utf8)
        try listed.assignSplits(validationList: validationList, testList: testList)
        let fromLists = try listed.split(validationFraction: 0.2, seed: 1)
        #expect(fromLists.validation.map { listed.clips[$0].path } == [root + "/x/src0_clip0.mp4"])
        #expect(fromLists.test.map { listed.clips[$0].path } == [root + "/y/src1_clip1.mp4"])
        #expect(fromLists.train.count == 2)
        // A test list alone: validation is still held out, from the other clips.
        var testOnly = try VideoDataset.load(root)
        try testOnly.assignSplits(validationList: nil, testList: testList)
        let carved = try testOnly.split(validationFraction: 0.5, seed: 1)
        #expect(carved.test.map { testOnly.clips[$0].path } == [root + "/y/src1_clip1.mp4"])
        #expect(!carved.validation.isEmpty && carved.train.count + carved.validation.count == 3)
        // A CSV's own test rows stay test when a validation list is given.
        try "path,label,split\nx/src0_clip0.mp4,x,\nx/src1_clip1.mp4,x,test\ny/src0_clip0.mp4,y,\ny/src1_clip1.mp4,y,\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        var csvData = try VideoDataset.load(csv)
        try "y/src0_clip0.mp4\n".write(toFile: validationList, atomically: true, encoding: .utf8)
        try csvData.assignSplits(validationList: validationList, testList: nil)
        let csvSplit = try csvData.split(validationFraction: 0.2, seed: 1)
        #expect(csvSplit.test == [1] && csvSplit.validation == [2] && csvSplit.train == [0, 3])
        try "x/nope.mp4\n".write(toFile: testList, atomically: true, encoding: .utf8)
        #expect { try listed.assignSplits(validationList: nil, testList: testList) } throws: { error in
            "\(error)".contains(testList) && "\(error)".contains("'x/nope.mp4' is not a clip of the dataset")
        }
        try "y/src0_clip0.mp4\n".write(toFile: testList, atomically: true, encoding: .utf8)  // also the validation list's
        #expect { try listed.assignSplits(validationList: validationList, testList: testList) } throws: { error in
            "\(error)".contains("in both the validation and the test list")
        }
        try "path,label\nx/src0_clip0.mp4,x\nmissing.mp4,y\n".write(toFile: csv, atomically: true, encoding: .utf8)
        #expect(throws: VideoClassificationError.self) { try VideoDataset.load(csv) }
    }

    @Test func frameCacheRoundTripsAndIgnoresDamage() throws {
        let folder = try TestPaths.temporaryDirectory("cache").path
        let clip = folder + "/clip.mp4"
        try Data("stand-in for a video".utf8).write(to: URL(fileURLWithPath: clip))
        let cache = try FrameCacheDirectory(path: folder + "/frames")
        let options = DecodeOptions(sampling: .uniform(4), format: FrameFormat(size: FrameSize(20)))
        #expect(cache.frames(for: clip, options: options) == nil)
        let frames = movingSquare(count: 4)
        cache.store(frames, for: clip, options: options)
        #expect(cache.frames(for: clip, options: options) == frames)
        var other = options
        other.sampling = .uniform(5)
        #expect(cache.frames(for: clip, options: other) == nil, "another sampling is another entry")
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache.path)
        #expect(entries.count == 1)
        let entry = cache.path + "/" + entries[0]
        let bytes = try Data(contentsOf: URL(fileURLWithPath: entry))
        try bytes.prefix(bytes.count - 7).write(to: URL(fileURLWithPath: entry))
        #expect(cache.frames(for: clip, options: options) == nil, "a truncated entry is ignored")
        try Data("changed".utf8).write(to: URL(fileURLWithPath: clip))
        cache.store(frames, for: clip, options: options)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path).count == 2, "a changed file is another entry")
    }

    @Test func csvHeaderNamesColumnsAndAGroupColumn() throws {
        let root = try Self.makeFolder(["x": 4, "y": 4])
        let csv = root + "/groups.csv"
        // Columns in another order, an extra column naming the source video, no split column (a
        // third column that is not a split must not be read as one).
        let rows = (0..<4).flatMap { n in ["x", "y"].map { "\(n % 2),\($0)/src\(n % 3)_clip\(n).mp4,\($0)" } }
        try ("source,path,label\n" + rows.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let data = try VideoDataset.load(csv)
        #expect(data.clips.count == 8 && data.labels == ["x", "y"])
        #expect(data.clips.allSatisfy { $0.split == nil })
        let groups = try data.groups(by: "source")
        #expect(Set(groups) == ["source=0", "source=1"])
        let folds = try data.folds(2, seed: 4, groupBy: "source")
        #expect(folds.allSatisfy { fold in Set(fold.map { groups[$0] }).count == 1 }, "each source in one fold")
        // A name that is not a column is a regular expression over paths.
        #expect(Set(try data.groups(by: "src[0-9]")) == ["src0", "src1", "src2"])
    }

    @Test func foldsKeepGroupsTogetherAndStratify() throws {
        let data = try VideoDataset.load(try Self.makeFolder(["a": 30, "b": 30]))
        let groups = try data.groups(by: "(src[0-9])_")
        let folds = try data.folds(3, seed: 9, groupBy: "(src[0-9])_")
        #expect(folds.flatMap { $0 }.sorted() == Array(data.clips.indices))
        for fold in folds {
            let foldGroups = Set(fold.map { "\(data.clips[$0].label)/\(groups[$0])" })
            for other in folds where other != fold {
                #expect(foldGroups.isDisjoint(with: other.map { "\(data.clips[$0].label)/\(groups[$0])" }))
            }
        }
        // Without groups, each of 5 folds gets 6 clips of each class.
        for fold in try data.folds(5, seed: 2) {
            #expect(fold.filter { data.clips[$0].label == "a" }.count == 6)
        }
        #expect(data.hash == (try VideoDataset.load(data.root)).hash)
    }
}

struct MetricsTests {
    @Test func knownNumbers() {
        // Truth a,a,b,b,c; predictions a,b,b,b,a.
        let p: [[Double]] = [[0.8, 0.1, 0.1], [0.3, 0.6, 0.1], [0.1, 0.7, 0.2], [0.2, 0.5, 0.3], [0.5, 0.1, 0.4]]
        let r = ClassificationReport(labels: ["a", "b", "c"], truths: [0, 0, 1, 1, 2], probabilities: p,
                                     paths: ["1", "2", "3", "4", "5"])
        #expect(r.top1 == 0.6)
        #expect(r.top5 == 1)
        #expect(r.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 0]])
        #expect(abs(r.meanClassAccuracy - (0.5 + 1 + 0) / 3) < 1e-12)
        #expect(r.perClass[1].precision == 2.0 / 3 && r.perClass[1].recall == 1)
        #expect(abs(r.perClass[1].f1 - 0.8) < 1e-12)
        #expect(r.misclassified.map(\.path) == ["2", "5"])
        #expect(r.confusionText.contains("[2] c"))
    }
}
