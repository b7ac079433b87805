import Foundation
import ANNKit
import ArgumentParser

extension Metric: ExpressibleByArgument {}
extension FileFormat: ExpressibleByArgument {}
extension KMeansParameters.Initialization: ExpressibleByArgument {}

/// -q/-v, shared by every tool.
public struct VerbosityOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    public var quiet = false

    @Flag(name: .shortAndLong, help: "Report what is done, with timings, on stderr.")
    public var verbose = false

    public init() {}

    public func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose exclude each other") }
    }
}

/// The main input (a file, or stdin for none or "-") and its form.
public struct InputOptions: ParsableArguments {
    @Option(name: .customLong("from"), help: ArgumentHelp(
        "Form of the main input when its name does not tell: native, fvecs, bvecs, ivecs, fbin, u8bin, ibin.",
        valueName: "form"))
    public var from: FileFormat?

    public init() {}
}

/// -o and --to: where the main output goes and in which form.
public struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Write the output to FILE (default: stdout). Its extension picks the form: .fvecs, .bvecs, .ivecs, .fbin, .u8bin, .ibin; native otherwise.",
        valueName: "file"))
    public var output: String?

    @Option(name: .customLong("to"), help: ArgumentHelp(
        "Form of the output, overriding the extension (and the form written to stdout).", valueName: "form"))
    public var to: FileFormat?

    public init() {}

    /// The form to write: --to, else the extension of -o, else native.
    public var format: FileFormat { to ?? output.flatMap(FileFormat.fromPath) ?? .native }

    /// Refuses, before any work, a form that cannot hold `what` and a compressed name.
    public func check(allowed: Set<FileFormat>, what: String) throws {
        if let o = output { try checkForm(of: o, allowed: allowed, what: what, flag: "-o") }
        if let t = to, !allowed.contains(t) {
            throw ValidationError("--to \(t.rawValue) cannot hold \(what); use \(allowed.map(\.rawValue).sorted().joined(separator: ", "))")
        }
    }
}

/// Refuses an output name whose extension names a form that cannot hold `what`, or `.zst`
/// (outputs are written uncompressed; pipe them through zstd).
func checkForm(of path: String, allowed: Set<FileFormat>, what: String, flag: String) throws {
    if path.lowercased().hasSuffix(".zst") {
        throw ValidationError("\(flag) \(path): outputs are not compressed; write to stdout and pipe through zstd")
    }
    let f = FileFormat.fromPath(path) ?? .native
    if !allowed.contains(f) {
        throw ValidationError("\(flag) \(path): a .\(f.rawValue) file cannot hold \(what); use \(allowed.map(\.rawValue).sorted().joined(separator: ", "))")
    }
}

/// --metric, with the same meaning in every tool.
public struct MetricOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Distance: l2 (squared Euclidean), ip (inner product) or cos (cosine).", valueName: "metric"))
    public var metric: Metric = .l2

    public init() {}
}

/// Where an auxiliary output goes, in the form its extension names.
func formatOf(_ path: String) -> FileFormat { FileFormat.fromPath(path) ?? .native }

/// How ann-query and ann-eval sweep rank clusters: centroid distance or a router model, with
/// SPANN's pruning or a size weight on top.
public struct RoutingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Rank clusters with this router model (from ann-train) instead of by centroid distance.", valueName: "file"))
    var model: String?

    @Option(help: ArgumentHelp("Add W·log(cluster size) to each cluster's score: with --model, 1 ranks clusters by probability per vector fetched.", valueName: "w"))
    var sizeWeight: Float = 0

    @Option(help: ArgumentHelp("Centroid routing only: skip a chosen cluster whose centroid is more than (1+E) times as far as the nearest chosen one (SPANN's pruning; default: none).", valueName: "e"))
    var prune: Double?

    public init() {}

    public func validate() throws {
        if let e = prune, !(e >= 0 && e.isFinite) { throw ValidationError("--prune must be a number of at least 0") }
        if prune != nil && model != nil { throw ValidationError("--prune and --model exclude each other: pruning compares centroid distances") }
        if !sizeWeight.isFinite { throw ValidationError("--size-weight must be a number") }
    }

    /// --threshold reads probabilities, which only a model gives, and a size weight would bend them.
    func checkThreshold(_ given: Bool) throws {
        guard given else { return }
        if model == nil {
            throw ValidationError("--threshold needs --model: it reads the router's probabilities (for calibrated centroid routing, train a model with ann-train --epochs 0)")
        }
        if sizeWeight != 0 { throw ValidationError("--threshold and --size-weight exclude each other: the threshold already weighs cluster sizes") }
    }

    /// A query engine over `index` routed as the options say.
    func engine(for index: PackedIndex, threads: Int) throws -> QueryEngine {
        let router: any ClusterRouter = try model.map { try ModelFile(path: $0, for: index).router() }
            ?? CentroidRouter(centroids: index.centroids, dim: index.dim, metric: index.metric)
        return QueryEngine(index: index, router: router, threads: threads)
    }

    /// The parameters of a search with `probe`, weighted and pruned as the options say.
    func parameters(_ probe: ProbeSelection) -> SearchParameters {
        SearchParameters(probe: probe, sizeWeight: sizeWeight, prune: prune.map(Float.init))
    }
}

/// What a router holds in memory beyond the index directory, in MB and bytes per base vector.
func routerMemory(_ router: any ClusterRouter, index: PackedIndex) -> String {
    let f = router.footprint
    return "\(MemoryFit.megabytes(f)), \(String(format: "%.2f", Double(f) / Double(max(1, index.baseCount)))) B per base vector"
}
