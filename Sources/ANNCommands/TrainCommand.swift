import ANNKit
import ArgumentParser
import Foundation

extension RouterKind: ExpressibleByArgument {}

/// What the router's network adds to: `residual` starts from centroid routing.
public enum RouterKind: String, CaseIterable, Sendable {
    case residual, mlp
}

public struct TrainCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ann-train",
        abstract: "Train a neural router that predicts which cluster holds a query's nearest neighbour.",
        discussion: """
            Reads training queries (QUERIES, or stdin), their exact neighbours (--gt, from \
            ann-groundtruth) and the assignment, and trains a 3-layer MLP (ReLU, Adam, softmax \
            cross-entropy over every cluster holding the neighbour, Gaussian noise on the queries) \
            for the clustering of --index. By default the network is residual: its scores add to \
            −‖q − c‖²/T, with T calibrated on the training queries and the last layer starting \
            at zero, so training starts from centroid routing. A held-out --validation share of the \
            queries picks the epoch kept; if no epoch beats the starting point, the starting \
            point is kept and a warning says so.
            """,
        version: toolVersion)

    @Option(help: ArgumentHelp("Exact neighbours of the training queries (native list, or .ivecs).", valueName: "file"))
    var gt: String

    @Option(help: ArgumentHelp("Clusters of the base vectors (from ann-kmeans or ann-dup).", valueName: "file"))
    var assignments: String

    @Option(help: ArgumentHelp("The packed index the model will route for.", valueName: "file"))
    var index: String

    @Option(name: .customLong("init"), help: ArgumentHelp("Continue training this model (same index).", valueName: "file"))
    var initModel: String?

    @Option(help: "Passes over the training queries.")
    var epochs = 10

    @Option(help: "Random seed (weights, shuffles, noise, validation split is fixed).")
    var seed: UInt64 = 1

    @Option(help: "Width of both hidden layers.")
    var hidden = 512

    @Option(help: ArgumentHelp("Network kind: residual (adds to centroid routing) or mlp (the paper's plain network).", valueName: "kind"))
    var router = RouterKind.residual

    @Option(name: .customLong("lr"), help: "Adam learning rate.")
    var learningRate: Float = 1e-3

    @Option(help: "Queries per step.")
    var batch = 1024

    @Option(help: ArgumentHelp("Gaussian noise added to training queries, as a fraction of each dimension's spread.", valueName: "sigma"))
    var noise: Float = 0.05

    @Option(help: ArgumentHelp("Decoupled L2 weight decay.", valueName: "w"))
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
        if epochs < 0 { throw ValidationError("--epochs must not be negative") }
        if hidden < 1 { throw ValidationError("--hidden must be at least 1") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if !(learningRate > 0) { throw ValidationError("--lr must be positive") }
        if !(noise >= 0) || !(weightDecay >= 0) { throw ValidationError("--noise and --weight-decay must not be negative") }
        if !(validation >= 0 && validation < 0.5) { throw ValidationError("--validation must be in [0, 0.5)") }
        try checkForm(of: output, allowed: [.native], what: "a router model", flag: "-o")
    }

    public func run() throws {
        let say = Reporter(tool: "ann-train", verbosity: verbosity)
        let clock = Stopwatch()
        let idx = try PackedIndex(path: index)
        let inputs = try TrainingInputs(index: idx, indexPath: index, queriesPath: queriesPath, from: input.from,
                                        gt: gt, assignments: assignments)
        let truth = inputs.truth, assignment = inputs.assignment
        let out = try OutputFile(path: output)
        let examples = try RouterExamples(queries: inputs.queries, dim: idx.dim, truth: truth, assignment: assignment, source: gt)
        let (train, held) = examples.split(validation: validation)
        say.info("\(train.count) training queries, \(held.count) held out; \(idx.clusterCount) clusters")

        var model: RouterModel
        if let initModel {
            model = try RouterModel.load(initModel, for: idx)
        } else {
            let norm = RouterTrainer.normalisation(train)
            model = RouterModel(dim: idx.dim, clusterCount: idx.clusterCount, hidden1: hidden, hidden2: hidden, metric: idx.metric,
                                centroids: idx.centroids, fingerprint: idx.fingerprint, centroidWeight: router == .residual ? 1 : 0,
                                mean: norm.mean, scale: norm.scale, seed: seed)
            if router == .residual {
                model.centroidWeight = RouterTrainer.calibrate(model, on: train)
                say.info("centroid term calibrated: T = \(String(format: "%.4g", 1 / model.centroidWeight))")
            }
        }
        var p = RouterTrainingParameters()
        p.epochs = epochs; p.batch = batch; p.learningRate = learningRate; p.noise = noise; p.weightDecay = weightDecay; p.seed = seed
        let trainer = RouterTrainer(model: model, parameters: p)
        let spread = model.scale.map { 1 / $0 }
        let judge = held.count > 0 ? held : train
        var best = (epoch: 0, accuracy: RouterTrainer.evaluate(model, judge).accuracy, model: model)
        say.info("epoch 0 (start\(initModel == nil && router == .residual ? ": centroid routing" : "")): \(held.count > 0 ? "held-out" : "training") top-1 accuracy \(fmt4(best.accuracy))")
        for e in 1...max(1, epochs) where epochs > 0 {
            let t = Stopwatch()
            let r = trainer.epoch(train, spread: spread)
            let secs = t.seconds
            let v = RouterTrainer.evaluate(trainer.model, judge)
            say.progress("epoch", done: e, total: epochs)
            say.info("epoch \(e)/\(epochs): loss \(fmt4(r.loss)), top-1 \(fmt4(r.accuracy)); \(held.count > 0 ? "held-out" : "training set") loss \(fmt4(v.loss)), top-1 \(fmt4(v.accuracy)); \(seconds(secs)), \(Int(Double(train.count) / secs)) samples/s")
            if validation == 0 || v.accuracy > best.accuracy { best = (e, v.accuracy, trainer.model) }
        }
        say.clearProgress()
        if best.epoch == 0 && epochs > 0 && validation > 0 && !verbosity.quiet {
            FileHandle.standardError.write("ann-train: warning: no epoch beat the starting point on held-out queries (top-1 \(fmt4(best.accuracy))); keeping the starting point\n".data(using: .utf8)!)
        } else {
            say.info("keeping epoch \(best.epoch) (held-out top-1 \(fmt4(best.accuracy)))")
        }
        try best.model.write(to: out)
        try out.commit()
        say.info("done in \(seconds(clock.seconds))")
    }
}
