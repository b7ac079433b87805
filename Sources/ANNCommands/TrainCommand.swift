import ANNKit
import ArgumentParser
import Foundation

/// The kinds --router takes, by the name the command layer's clients know them by.
public typealias RouterKind = ANNKit.RouterKind

extension RouterKind: ExpressibleByArgument {}
extension PointPrecision: ExpressibleByArgument {}
extension CodeRotation: ExpressibleByArgument {}
extension PQRouter.Calibration: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "learned": self = .learned
        case "temperature": self = .temperature
        default: return nil
        }
    }
    public var defaultValueDescription: String { self == .learned ? "learned" : "temperature" }
}
extension MemoryBudget: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    /// As --memory takes it.
    public var defaultValueDescription: String {
        switch self {
        case .bytes(let b): return "\(b)"
        case .perVector(let v): return "\(v == v.rounded() ? String(Int(v)) : String(v))B/vector"
        }
    }
}

public struct TrainCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ann-train",
        abstract: "Train a router that predicts which clusters hold a query's nearest neighbour.",
        discussion: """
            Reads training queries (QUERIES, or stdin), their exact neighbours (--gt, from \
            ann-groundtruth) and the packed index (--index), whose clusters say which hold each \
            neighbour, and trains a router for its clustering by softmax cross-entropy over every \
            cluster holding the neighbour (Adam). The router is built to fit --memory. \
            pq (the default): product-quantised codes of the index's vectors nearest a cluster \
            boundary (--coded-share), as many bytes each as the budget allows, of residuals rotated by a learnt \
            orthogonal matrix where the budget has room for it (--rotation); a query's clusters are scored from the \
            distances the codes give to their vectors, turned into probabilities by a small \
            learned network (--calibration learned) or by softmax(−d/T) of each cluster's best \
            candidate (--calibration temperature, the PQ-in-memory baseline). \
            kernel: --points weighted points inside each cluster (k-means over \
            its vectors, then learnt), cluster score log Σ exp(−‖q − s‖²/T + a); its calibrated \
            probabilities suit ann-query --threshold. residual: a 3-layer MLP (ReLU, Gaussian \
            noise on the queries) whose scores add to −‖q − c‖²/T, T calibrated and the last \
            layer starting at zero, so training starts from centroid routing. mlp: the paper's \
            plain network. A held-out --validation share of the queries picks the epoch kept; \
            if no epoch beats the starting point, the starting point is kept and a warning says so.
            """,
        version: toolVersion)

    @OptionGroup var inputs: TrainingInputs

    /// Refused: kept only to say why training is not sliced.
    @Option(help: ArgumentHelp(visibility: .private))
    var shard: String?

    @Option(name: .customLong("init"), help: ArgumentHelp("Continue training this model (same index).", valueName: "file"))
    var initModel: String?

    @Option(help: ArgumentHelp("Memory the router may hold while routing: bytes (K, M, G suffixes) or NB/vector, bytes per base vector of the index. Sizes pq's codes, the kernel router's points and the MLP's width; not checked with --init.", valueName: "size"))
    var memory: MemoryBudget = .standard

    @Option(help: ArgumentHelp("PQ: how candidate distances become probabilities: learned (a small network over each cluster's candidates) or temperature (softmax of the best candidate's distance, T fitted).", valueName: "kind"))
    var calibration: PQRouter.Calibration?

    @Option(help: ArgumentHelp("PQ: the share of the index's vectors that get a code, those nearest a cluster boundary (default by budget: \(PQRouterParameters.codedShare(bytesPerVector: 16)) at 16B/vector and more, \(PQRouterParameters.codedShare(bytesPerVector: 4)) at 4B/vector, down to \(PQRouterParameters.codedShareRange.0); 1 codes all).", valueName: "fraction"))
    var codedShare: Double?

    @Option(help: ArgumentHelp("PQ: code the residuals as they are (none) or rotated by an orthogonal matrix learnt with the codebooks (opq; default \(CodeRotation.standard.rawValue) where its d² floats take at most 1/\(Int((1 / PQRouterParameters.rotationShare).rounded())) of --memory, none otherwise).", valueName: "kind"))
    var rotation: CodeRotation?

    @Option(help: "Passes over the training queries (default: pq \(RouterKind.pq.defaultEpochs), kernel \(RouterKind.kernel.defaultEpochs), MLP \(RouterKind.mlp.defaultEpochs)).")
    var epochs: Int?

    @Option(help: "Random seed (weights, shuffles, noise, validation split is fixed).")
    var seed: UInt64 = 1

    @Option(help: "MLP: width of both hidden layers (default: the widest up to \(MemoryFit.widestMLP) that fits --memory).")
    var hidden: Int?

    @Option(help: ArgumentHelp("Router kind: pq (codes of the vectors nearest a cluster boundary; the default), kernel (weighted points inside each cluster), residual (MLP added to centroid routing) or mlp (the paper's plain network). With --init, the model's kind.", valueName: "kind"))
    var router: RouterKind?

    @Option(help: ArgumentHelp("Kernel: points per cluster, placed by k-means over the cluster's vectors (default: the most up to \(TrainingPlan.mostPoints), and up to \(100 * TrainingPlan.pointShare.numerator / TrainingPlan.pointShare.denominator)% of the mean cluster size, that fit --memory).", valueName: "m"))
    var points: Int?

    @Option(help: ArgumentHelp("Kernel: clusters scored per query, those whose centroids rank first; the others get probability 0 (0: all; default \(TrainingPlan.defaultCandidates), with --init the model's).", valueName: "n"))
    var candidates: Int?

    @Option(help: ArgumentHelp("Kernel: how the model stores the points: float16 (half the memory) or float32 (training is float32 either way; default \(PointPrecision.standard.rawValue)).", valueName: "type"))
    var precision: PointPrecision?

    @Option(help: ArgumentHelp("Kernel: Adam learning rate of the points themselves (0: they stay where k-means put them; default \(KernelTrainingParameters().pointLearningRate)).", valueName: "lr"))
    var pointLr: Float?

    @Option(name: .customLong("lr"), help: "Adam learning rate (default: pq \(RouterKind.pq.defaultLearningRate), kernel \(RouterKind.kernel.defaultLearningRate), MLP \(RouterKind.mlp.defaultLearningRate)).")
    var learningRate: Float?

    @Option(help: "Kernel and MLP: queries per step (default \(KernelTrainingParameters().batch)).")
    var batch: Int?

    @Option(help: ArgumentHelp("Kernel and MLP: Gaussian noise added to training queries, as a fraction of each dimension's spread (default: kernel \(shown(RouterKind.kernel.defaultNoise!)), MLP \(shown(RouterKind.mlp.defaultNoise!))).", valueName: "sigma"))
    var noise: Float?

    @Option(help: ArgumentHelp("MLP: decoupled L2 weight decay (default \(RouterTrainingParameters().weightDecay)).", valueName: "w"))
    var weightDecay: Float?

    @Option(help: ArgumentHelp("Share of the queries held out to choose the epoch kept (0: keep the last).", valueName: "fraction"))
    var validation = TrainingSet.defaultValidation

    @OptionGroup var input: InputOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the model to FILE.", valueName: "file"))
    var output: String
    @OptionGroup var verbosity: VerbosityOptions

    public init() {}

    public func validate() throws {
        try inputs.checkQueries()
        if shard != nil {
            throw ValidationError("--shard is not taken: a router learns from all its training queries at once; slice their ground truth (ann-groundtruth --shard) and train in one process")
        }
        if let e = epochs, e < 0 { throw ValidationError("--epochs must not be negative") }
        if let f = codedShare, !(f > 0 && f <= 1) { throw ValidationError("--coded-share must be in (0, 1]") }
        if let hidden, hidden < 1 || hidden > Bounds.hidden { throw ValidationError("--hidden must be at least 1 and at most \(Bounds.hidden)") }
        if let m = points, m < 1 || m > 4096 { throw ValidationError("--points must be between 1 and 4096") }
        if let c = candidates, c < 0 { throw ValidationError("--candidates must not be negative") }
        if let b = batch, b < 1 || b > Bounds.trainingBatch { throw ValidationError("--batch must be at least 1 and at most \(Bounds.trainingBatch)") }
        if let r = learningRate, !(r > 0) { throw ValidationError("--lr must be positive") }
        if let r = pointLr, !(r >= 0) { throw ValidationError("--point-lr must not be negative") }
        if let n = noise, !(n >= 0) { throw ValidationError("--noise must not be negative") }
        if let w = weightDecay, !(w >= 0) { throw ValidationError("--weight-decay must not be negative") }
        try TrainingInputs.checkValidation(validation)
        try checkForm(of: output, allowed: [.native], what: "a router model", flag: "-o")
        if calibration != nil && initModel != nil { throw ValidationError("--calibration is for a new --router pq, which --init cannot continue") }
        if codedShare != nil && initModel != nil { throw ValidationError("--coded-share is for a new --router pq, which --init cannot continue") }
        if rotation != nil && initModel != nil { throw ValidationError("--rotation is for a new --router pq, which --init cannot continue") }
        if router == .pq && initModel != nil { throw ValidationError("--init is not taken by --router pq: train it again for the index (it takes a minute)") }
        guard let kind = namedKind else { return }
        try refuseSettings(unusedBy: kind)
    }

    /// The kind the options name: --router, or pq for a new router; nil with --init and no
    /// --router, where the kind is the model's, known once it is read.
    var namedKind: RouterKind? { router ?? (initModel == nil ? .pq : nil) }

    /// The training the options ask for.
    var plan: TrainingPlan {
        var p = TrainingPlan(seed: seed)
        p.epochs = epochs
        p.learningRate = learningRate
        p.batch = batch
        p.noise = noise
        p.calibration = calibration
        p.codedShare = codedShare
        p.rotation = rotation
        p.points = points
        p.candidates = candidates
        p.precision = precision
        p.pointLearningRate = pointLr
        p.hidden = hidden
        p.weightDecay = weightDecay
        return p
    }

    /// The options of the settings that only some kinds take, grouped as a refusal names them.
    static let settingOptions: [(flags: [String], settings: [TrainingSetting])] = [
        (["--calibration", "--coded-share", "--rotation"], [.calibration, .codedShare, .rotation]),
        (["--hidden"], [.hidden]),
        (["--points", "--candidates"], [.points, .candidates]),
        (["--precision", "--point-lr"], [.precision, .pointLearningRate]),
        (["--weight-decay"], [.weightDecay]),
        (["--batch", "--noise"], [.batch, .noise]),
    ]

    /// Refuses an option of another router kind than `kind`, which would be silently ignored.
    func refuseSettings(unusedBy kind: RouterKind) throws {
        let unused = plan.unused(by: kind)
        guard let group = Self.settingOptions.first(where: { $0.settings.contains(where: unused.contains) }) else { return }
        throw ValidationError("\(listed(group.flags)) \(group.flags.count == 1 ? "is" : "are") for --router \(listed(group.settings[0].kinds.map(\.rawValue)))")
    }

    public func run() throws {
        let say = Reporter(tool: "ann-train", verbosity: verbosity)
        let clock = Stopwatch()
        let idx = try PackedIndex(path: inputs.index)
        let budget = memory.bytes(baseCount: idx.baseCount)
        let plan = self.plan
        // Sized before the training queries are read: a budget no PQ router fits is refused first.
        let pq = try namedKind == .pq
            ? plan.pq(index: idx, budget: budget, memory: memory, threads: Machine.cores) : nil
        let set = try inputs.load(for: idx, from: input.from)
        let out = try openOutput(output)
        let (train, held) = try set.examples().split(validation: validation)
        say.info("\(train.count) training queries, \(held.count) held out; \(idx.clusterCount) clusters")
        let start = try initModel.map { try ModelFile(path: $0, for: idx) }
        var kind = router ?? .pq
        if let start {
            let fileKind = try RouterKind(model: start)
            guard fileKind.continues else { throw ANNError.usage("--init \(initModel!) holds a pq router, which is trained anew for each index") }
            if let router, router != fileKind { throw ANNError.usage("--router \(router.rawValue) but --init \(initModel!) holds a \(fileKind.rawValue) router") }
            try refuseSettings(unusedBy: fileKind)
            kind = fileKind
        }
        if let pq {  // a pq router is never continued (--init), so this is kind == .pq
            try trainPQ(index: idx, parameters: pq, train: train, held: held, budget: budget, out: out, say: say)
        } else {
            let report = reporter(say, kind: kind, held: held, samples: train.count)
            if kind == .kernel {
                try LearnedRouterTraining.kernel(start: start, index: idx, plan: plan, budget: budget, memory: memory,
                                                 train: train, held: held, events: report).write(to: out)
            } else {
                try LearnedRouterTraining.mlp(kind, start: start, index: idx, plan: plan, budget: budget, memory: memory,
                                              train: train, held: held, events: report).write(to: out)
            }
            try out.commit()
        }
        say.info("done in \(seconds(clock.seconds))")
    }

    /// How a kernel or MLP router's training is reported on stderr.
    func reporter(_ say: Reporter, kind: RouterKind, held: RouterExamples, samples: Int) -> (LearnedRouterTraining.Event) -> Void {
        let what = held.count > 0 ? "held-out" : "training"
        return { event in
            switch event {
            case .placingPoints(let done, let of): say.progress("clusters", done: done, total: of)
            case .pointsPlaced(let points, let clusters, let m, let s, let scored):
                say.clearProgress()
                say.info("\(points) points in \(clusters) clusters (up to \(m) each) by k-means in \(seconds(s)); \(scored) clusters scored per query")
            case .calibrated(let t):
                say.info("\(kind == .kernel ? "kernel" : "centroid term") calibrated: T = \(String(format: "%.4g", t))")
            case .outsideCandidates(let outside, let of, let scored):
                say.info("\(outside) of \(of) \(what) queries (\(String(format: "%.2f", 100 * Double(outside) / Double(max(1, of))))%) have their neighbour outside the \(scored) candidate clusters")
            case .start(let loss?, let accuracy, _):
                say.info("epoch 0 (start): \(what) loss \(fmt4(loss)), top-1 \(fmt4(accuracy))")
            case .start(nil, let accuracy, let centroidRouting):
                say.info("epoch 0 (start\(centroidRouting ? ": centroid routing" : "")): \(what) top-1 accuracy \(fmt4(accuracy))")
            case .epoch(let e, let t):
                let note = t.map { "T = \(String(format: "%.4g", $0)); " } ?? ""
                say.progress("epoch", done: e.index, total: e.of)
                say.info("epoch \(e.index)/\(e.of): loss \(fmt4(e.loss)), top-1 \(fmt4(e.accuracy)); \(what) loss \(fmt4(e.judgedLoss)), top-1 \(fmt4(e.judgedAccuracy)); \(note)\(seconds(e.seconds)), \(Int(Double(samples) / e.seconds)) samples/s")
            case .kept(let epoch, let measure, let value, let startKept):
                say.clearProgress()
                if startKept && !verbosity.quiet {
                    FileHandle.standardError.write("ann-train: warning: no epoch beat the starting point on held-out queries (\(measure) \(fmt4(value))); keeping the starting point\n".data(using: .utf8)!)
                } else {
                    say.info("keeping epoch \(epoch) (\(what) \(measure) \(fmt4(value)))")
                }
            }
        }
    }
}

/// A default in help text, whole numbers without a fraction ("0", "0.05").
func shown(_ v: Float) -> String { v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : "\(v)" }

/// "a", "a and b", "a, b and c".
func listed(_ items: [String]) -> String {
    items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
}
