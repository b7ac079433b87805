import ANNKit
import ArgumentParser
import Foundation

extension RouterKind: ExpressibleByArgument {}
extension PointPrecision: ExpressibleByArgument {}
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
    public var defaultValueDescription: String { self == .standard ? "16B/vector" : description }
}

/// How a kernel router's points are stored: float16 halves the router's memory.
public enum PointPrecision: String, CaseIterable, Sendable {
    case float16, float32
}

/// The router trained: `pq` (product-quantised codes of the vectors nearest a cluster
/// boundary), `residual` (an MLP added to centroid routing), `mlp` (the paper's plain network)
/// or `kernel` (weighted points inside each cluster).
public enum RouterKind: String, CaseIterable, Sendable {
    case pq, residual, mlp, kernel
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
            boundary (--coded-share), as many bytes each as the budget allows; a query's clusters are scored from the \
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

    @Option(help: ArgumentHelp("Exact neighbours of the training queries (native list, or .ivecs).", valueName: "file"))
    var gt: String

    /// Refused: kept only to say where membership comes from now.
    @Option(help: ArgumentHelp(visibility: .private))
    var assignments: String?

    @Option(help: ArgumentHelp("The packed index the model will route for; its clusters say which hold each neighbour.", valueName: "file"))
    var index: String

    @Option(name: .customLong("init"), help: ArgumentHelp("Continue training this model (same index).", valueName: "file"))
    var initModel: String?

    @Option(help: ArgumentHelp("Memory the router may hold while routing: bytes (K, M, G suffixes) or NB/vector, bytes per base vector of the index. Sizes pq's codes, the kernel router's points and the MLP's width; not checked with --init.", valueName: "size"))
    var memory: MemoryBudget = .standard

    @Option(help: ArgumentHelp("PQ: how candidate distances become probabilities: learned (a small network over each cluster's candidates) or temperature (softmax of the best candidate's distance, T fitted).", valueName: "kind"))
    var calibration: PQRouter.Calibration?

    @Option(help: ArgumentHelp("PQ: the share of the index's vectors that get a code, those nearest a cluster boundary (default by budget: \(PQRouterParameters.codedShare(bytesPerVector: 16)) at 16B/vector and more, \(PQRouterParameters.codedShare(bytesPerVector: 4)) at 4B/vector, down to \(PQRouterParameters.codedShareRange.0); 1 codes all).", valueName: "fraction"))
    var codedShare: Double?

    @Option(help: "Passes over the training queries (default: pq 30, kernel 3, MLP 10).")
    var epochs: Int?

    @Option(help: "Random seed (weights, shuffles, noise, validation split is fixed).")
    var seed: UInt64 = 1

    @Option(help: "MLP: width of both hidden layers (default: the widest up to 512 that fits --memory).")
    var hidden: Int?

    @Option(help: ArgumentHelp("Router kind: pq (codes of the vectors nearest a cluster boundary; the default), kernel (weighted points inside each cluster), residual (MLP added to centroid routing) or mlp (the paper's plain network). With --init, the model's kind.", valueName: "kind"))
    var router: RouterKind?

    @Option(help: ArgumentHelp("Kernel: points per cluster, placed by k-means over the cluster's vectors (default: the most up to 256, and up to 40% of the mean cluster size, that fit --memory).", valueName: "m"))
    var points: Int?

    @Option(help: ArgumentHelp("Kernel: clusters scored per query, those whose centroids rank first; the others get probability 0 (0: all; default 64, with --init the model's).", valueName: "n"))
    var candidates: Int?

    @Option(help: ArgumentHelp("Kernel: how the model stores the points: float16 (half the memory) or float32 (training is float32 either way).", valueName: "type"))
    var precision: PointPrecision = .float16

    @Option(help: ArgumentHelp("Kernel: Adam learning rate of the points themselves (0: they stay where k-means put them).", valueName: "lr"))
    var pointLr: Float = 0.1

    @Option(name: .customLong("lr"), help: "Adam learning rate (default: kernel 0.01, MLP 0.001).")
    var learningRate: Float?

    @Option(help: "Queries per step.")
    var batch = 1024

    @Option(help: ArgumentHelp("Gaussian noise added to training queries, as a fraction of each dimension's spread (default: kernel 0, MLP 0.05).", valueName: "sigma"))
    var noise: Float?

    @Option(help: ArgumentHelp("MLP: decoupled L2 weight decay.", valueName: "w"))
    var weightDecay: Float = 1e-4

    @Option(help: ArgumentHelp("Share of the queries held out to choose the epoch kept (0: keep the last).", valueName: "fraction"))
    var validation = 0.1

    @OptionGroup var input: InputOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the model to FILE.", valueName: "file"))
    var output: String
    @OptionGroup var verbosity: VerbosityOptions

    @Argument(help: ArgumentHelp("Training queries (default: stdin).", valueName: "queries"))
    var queriesPath: String?

    public init() {}

    public func validate() throws {
        try refuseAssignments(assignments)
        if let e = epochs, e < 0 { throw ValidationError("--epochs must not be negative") }
        if let f = codedShare, !(f > 0 && f <= 1) { throw ValidationError("--coded-share must be in (0, 1]") }
        if let hidden, hidden < 1 || hidden > Bounds.hidden { throw ValidationError("--hidden must be at least 1 and at most \(Bounds.hidden)") }
        if let m = points, m < 1 || m > 4096 { throw ValidationError("--points must be between 1 and 4096") }
        if let c = candidates, c < 0 { throw ValidationError("--candidates must not be negative") }
        if batch < 1 || batch > Bounds.trainingBatch { throw ValidationError("--batch must be at least 1 and at most \(Bounds.trainingBatch)") }
        if let r = learningRate, !(r > 0) { throw ValidationError("--lr must be positive") }
        if !(pointLr >= 0) { throw ValidationError("--point-lr must not be negative") }
        if let n = noise, !(n >= 0) { throw ValidationError("--noise must not be negative") }
        if !(weightDecay >= 0) { throw ValidationError("--weight-decay must not be negative") }
        if !(validation >= 0 && validation < 0.5) { throw ValidationError("--validation must be in [0, 0.5)") }
        try checkForm(of: output, allowed: [.native], what: "a router model", flag: "-o")
        if calibration != nil && initModel != nil { throw ValidationError("--calibration is for a new --router pq, which --init cannot continue") }
        if router == .pq && initModel != nil { throw ValidationError("--init is not taken by --router pq: train it again for the index (it takes a minute)") }
        guard let kind = namedKind else { return }
        if (calibration != nil || codedShare != nil) && kind != .pq { throw ValidationError("--calibration and --coded-share are for --router pq") }
        if hidden != nil && kind != .mlp && kind != .residual { throw ValidationError("--hidden is for --router mlp and residual") }
        if (points != nil || candidates != nil) && kind != .kernel { throw ValidationError("--points and --candidates are for --router kernel") }
    }

    /// The kind the options name: --router, or pq for a new router; nil with --init and no
    /// --router, where the kind is the model's, known once it is read.
    var namedKind: RouterKind? { router ?? (initModel == nil ? .pq : nil) }

    public func run() throws {
        let say = Reporter(tool: "ann-train", verbosity: verbosity)
        let clock = Stopwatch()
        let idx = try PackedIndex(path: index)
        let budget = memory.bytes(baseCount: idx.baseCount)
        // Sized before the training queries are read: a budget no PQ router fits is refused first.
        let pq = try namedKind == .pq ? pqParameters(index: idx, budget: budget) : nil
        let inputs = try TrainingInputs(index: idx, indexPath: index, queriesPath: queriesPath, from: input.from, gt: gt)
        let truth = inputs.truth, assignment = inputs.assignment
        let out = try OutputFile(path: output)
        let examples = try RouterExamples(queries: inputs.queries, dim: idx.dim, truth: truth, assignment: assignment, source: gt)
        let (train, held) = examples.split(validation: validation)
        say.info("\(train.count) training queries, \(held.count) held out; \(idx.clusterCount) clusters")
        let start = try initModel.map { try ModelFile(path: $0, for: idx) }
        var kind = router ?? .pq
        if let start {
            guard start.architecture != .pq else { throw ANNError.usage("--init \(initModel!) holds a pq router, which is trained anew for each index") }
            let fileKind: RouterKind = start.architecture == .kernel ? .kernel : try RouterModel(file: start).centroidWeight == 0 ? .mlp : .residual
            if let router, router != fileKind { throw ANNError.usage("--router \(router.rawValue) but --init \(initModel!) holds a \(fileKind.rawValue) router") }
            kind = fileKind
        }
        if let pq {  // a pq router is never continued (--init), so this is kind == .pq
            try trainPQ(index: idx, parameters: pq, train: train, held: held, budget: budget, out: out, say: say)
            say.info("done in \(seconds(clock.seconds))")
            return
        }
        if kind == .kernel {
            try trainKernel(start: start, index: idx, train: train, held: held, budget: budget, out: out, say: say)
            say.info("done in \(seconds(clock.seconds))")
            return
        }
        let epochs = self.epochs ?? 10, router = kind

        var model: RouterModel
        if let start {
            model = try RouterModel(file: start)
        } else {
            let norm = RouterTrainer.normalisation(train)
            let hidden = try self.hidden ?? MemoryFit.mlpWidth(index: idx, budget: budget, memory: memory)
            try MemoryFit.check(RouterModel.footprint(dim: idx.dim, clusterCount: idx.clusterCount, hidden1: hidden, hidden2: hidden),
                                budget: budget, memory: memory, what: "an MLP of width \(hidden)")
            model = RouterModel(dim: idx.dim, clusterCount: idx.clusterCount, hidden1: hidden, hidden2: hidden, metric: idx.metric,
                                centroids: idx.centroids, fingerprint: idx.fingerprint, centroidWeight: router == .residual ? 1 : 0,
                                mean: norm.mean, scale: norm.scale, seed: seed)
            if router == .residual {
                model.centroidWeight = RouterTrainer.calibrate(model, on: train)
                say.info("centroid term calibrated: T = \(String(format: "%.4g", 1 / model.centroidWeight))")
            }
        }
        var p = RouterTrainingParameters()
        p.epochs = epochs; p.batch = batch; p.learningRate = learningRate ?? 1e-3; p.noise = noise ?? 0.05; p.weightDecay = weightDecay; p.seed = seed
        let trainer = RouterTrainer(model: model, parameters: p)
        let spread = model.scale.map { 1 / $0 }
        let judge = held.count > 0 ? held : train
        let first = RouterTrainer.evaluate(model, judge).accuracy
        say.info("epoch 0 (start\(initModel == nil && router == .residual ? ": centroid routing" : "")): \(held.count > 0 ? "held-out" : "training") top-1 accuracy \(fmt4(first))")
        let best = bestEpoch(of: model, value: first, measure: "top-1", better: >, epochs: epochs, held: held, samples: train.count, say: say,
                             epoch: { trainer.epoch(train, spread: spread) }) {
            let v = RouterTrainer.evaluate(trainer.model, judge)
            return (trainer.model, v.loss, v.accuracy, v.accuracy, "")
        }
        try best.write(to: out)
        try out.commit()
        say.info("done in \(seconds(clock.seconds))")
    }

    /// The kernel router: points by k-means inside each cluster, w calibrated, then Adam on the
    /// log-weights and w (and the points with --point-lr). The epoch kept is the one with the
    /// lowest held-out loss, which tracks the vectors fetched at a recall better than top-1 does.
    func trainKernel(start: ModelFile?, index idx: PackedIndex, train: RouterExamples, held: RouterExamples, budget: Int, out: OutputFile,
                     say: Reporter) throws {
        let epochs = self.epochs ?? 3
        var model: KernelRouter
        if let start {
            model = try KernelRouter(file: start)
            if let candidates { model.candidates = candidates }
        } else {
            let t = Stopwatch()
            // A point per 2.5 vectors would hold most of the data in memory: cap m for small clusters.
            let stored = idx.entries.reduce(0) { $0 + $1.vectors }
            let cap = max(1, min(256, stored * 2 / (5 * max(1, idx.clusterCount))))
            let m = try points ?? MemoryFit.kernelPoints(index: idx, cap: cap, half: precision == .float16, budget: budget, memory: memory)
            try MemoryFit.check(KernelRouter.footprint(clusterCount: idx.clusterCount, slots: m, dim: idx.dim, half: precision == .float16),
                                budget: budget, memory: memory, what: "a kernel router of \(m) points per cluster")
            model = try KernelRouterTrainer.initial(for: idx, slots: m, candidates: candidates ?? 64, seed: seed) { say.progress("clusters", done: $0, total: idx.clusterCount) }
            say.clearProgress()
            let used = model.logWeights.filter { $0 != KernelRouter.absent }.count
            say.info("\(used) points in \(idx.clusterCount) clusters (up to \(m) each) by k-means in \(seconds(t.seconds)); \(model.scoredClusters) clusters scored per query")
            model.weight = KernelRouterTrainer.calibrate(model, on: train)
            say.info("kernel calibrated: T = \(String(format: "%.4g", 1 / model.weight))")
        }
        var p = KernelTrainingParameters()
        p.epochs = epochs; p.batch = batch; p.learningRate = learningRate ?? 0.01; p.pointLearningRate = pointLr
        p.noise = noise ?? 0; p.seed = seed
        let trainer = KernelRouterTrainer(model: model, parameters: p)
        let spread = RouterTrainer.normalisation(train).scale.map { 1 / $0 }
        let judge = held.count > 0 ? held : train
        if model.scoredClusters < idx.clusterCount {
            let outside = KernelRouterTrainer.outsideCandidates(model, judge)
            say.info("\(outside) of \(judge.count) \(held.count > 0 ? "held-out" : "training") queries (\(String(format: "%.2f", 100 * Double(outside) / Double(max(1, judge.count))))%) have their neighbour outside the \(model.scoredClusters) candidate clusters")
        }
        let first = KernelRouterTrainer.evaluate(model, judge)
        say.info("epoch 0 (start): \(held.count > 0 ? "held-out" : "training") loss \(fmt4(first.loss)), top-1 \(fmt4(first.accuracy))")
        let best = bestEpoch(of: model, value: first.loss, measure: "loss", better: <, epochs: epochs, held: held, samples: train.count, say: say,
                             epoch: { trainer.epoch(train, spread: spread) }) {
            let v = KernelRouterTrainer.evaluate(trainer.model, judge)
            return (trainer.model, v.loss, v.accuracy, v.loss, "T = \(String(format: "%.4g", 1 / trainer.model.weight)); ")
        }
        try (precision == .float16 ? best.halved() : best.widened()).write(to: out)
        try out.commit()
    }

    /// The epochs of either router: each is judged on the held-out queries (the training ones
    /// if none are held out) by a `value` that `better` compares, and the best is kept, epoch 0
    /// being the starting point; with nothing held out, the last. Warns when no epoch beats the
    /// start.
    func bestEpoch<M>(of start: M, value: Double, measure: String, better: (Double, Double) -> Bool, epochs: Int,
                      held: RouterExamples, samples: Int, say: Reporter, epoch: () -> (loss: Double, accuracy: Double),
                      judge: () -> (model: M, loss: Double, accuracy: Double, value: Double, note: String)) -> M {
        let what = held.count > 0 ? "held-out" : "training"
        var best = (epoch: 0, value: value, model: start)
        for e in 1...max(1, epochs) where epochs > 0 {
            let t = Stopwatch()
            let r = epoch()
            let secs = t.seconds
            let v = judge()
            say.progress("epoch", done: e, total: epochs)
            say.info("epoch \(e)/\(epochs): loss \(fmt4(r.loss)), top-1 \(fmt4(r.accuracy)); \(what) loss \(fmt4(v.loss)), top-1 \(fmt4(v.accuracy)); \(v.note)\(seconds(secs)), \(Int(Double(samples) / secs)) samples/s")
            if held.count == 0 || better(v.value, best.value) { best = (e, v.value, v.model) }
        }
        say.clearProgress()
        if best.epoch == 0 && epochs > 0 && held.count > 0 && !verbosity.quiet {
            FileHandle.standardError.write("ann-train: warning: no epoch beat the starting point on held-out queries (\(measure) \(fmt4(best.value))); keeping the starting point\n".data(using: .utf8)!)
        } else {
            say.info("keeping epoch \(best.epoch) (\(what) \(measure) \(fmt4(best.value)))")
        }
        return best.model
    }
}
