import Foundation
import ANNKit
import ArgumentParser

extension Metric: ExpressibleByArgument {}

extension Shard: ExpressibleByArgument {
    public init?(argument: String) {
        guard let s = try? Shard(parsing: argument) else { return nil }
        self = s
    }
}
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

/// The forms a tool reads or writes for one of its inputs or outputs, and what they hold: the
/// one list that both its help and its validation use.
public protocol FormList {
    /// In the order help lists them.
    static var forms: [FileFormat] { get }
    /// What the forms hold, for messages ("vectors", "a neighbour list").
    static var what: String { get }
}

/// Vectors: the main input of every tool that takes --from.
public enum VectorForms: FormList {
    public static let forms: [FileFormat] = [.native, .fvecs, .bvecs, .fbin, .u8bin]
    public static let what = "vectors"
}

/// ann-kmeans's centroids: float32 vectors.
public enum CentroidForms: FormList {
    public static let forms: [FileFormat] = [.native, .fvecs, .fbin]
    public static let what = "centroids"
}

/// The neighbour lists of ann-groundtruth and ann-query: ids, or the distances alone.
public enum NeighborListForms: FormList {
    public static let forms: [FileFormat] = [.native, .ivecs, .ibin, .fvecs, .fbin]
    public static let what = "a neighbour list"
}

/// Assignments: ann-kmeans --assignments, ann-dup -o.
public enum AssignmentForms: FormList {
    public static let forms: [FileFormat] = [.native, .ivecs, .ibin]
    public static let what = "an assignment"
}

/// A form named on the command line. Every form parses, so that a tool can say why one it
/// does not take is refused; its help lists only those of `Forms`.
public struct NamedForm<Forms: FormList>: ExpressibleByArgument {
    public let format: FileFormat

    public init?(argument: String) {
        guard let f = FileFormat(rawValue: argument) else { return nil }
        format = f
    }

    public static var allValueStrings: [String] { Forms.forms.map(\.rawValue) }
    public static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
    public var defaultValueDescription: String { format.rawValue }

    /// Refuses a form that cannot hold `Forms.what`, naming the option as `flag`.
    func check(flag: String) throws {
        guard !Forms.forms.contains(format) else { return }
        throw ValidationError("\(flag) \(format.rawValue) cannot hold \(Forms.what); use \(Forms.forms.map(\.rawValue).sorted().joined(separator: ", "))")
    }
}

/// The main input (a file, or stdin for none or "-") and its form.
public struct InputOptions: ParsableArguments {
    @Option(name: .customLong("from"), help: ArgumentHelp("Form of the main input when its name does not tell.", valueName: "form"))
    var form: NamedForm<VectorForms>?

    public init() {}

    public func validate() throws { try form?.check(flag: "--from") }

    /// The form --from names, if any.
    public var from: FileFormat? { form?.format }
}

/// -o and --to: where the main output goes and in which form, one of `Kind`'s.
public struct OutputOptions<Kind: FormList>: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Write the output to FILE (default: stdout). Its extension picks the form: \(Kind.forms.filter { $0 != .native }.map { "." + $0.rawValue }.joined(separator: ", ")); native otherwise.",
        valueName: "file"))
    public var output: String?

    @Option(name: .customLong("to"), help: ArgumentHelp(
        "Form of the output, overriding the extension (and the form written to stdout).", valueName: "form"))
    var form: NamedForm<Kind>?

    public init() {}

    /// The form --to names, if any.
    public var to: FileFormat? { form?.format }

    /// The form to write: --to, else the extension of -o, else native.
    public var format: FileFormat { to ?? output.flatMap(FileFormat.fromPath) ?? .native }

    /// Refuses, before any work, a form that cannot hold the output and a compressed name.
    public func check() throws {
        if let o = output { try checkForm(of: o, allowed: Set(Kind.forms), what: Kind.what, flag: "-o") }
        try form?.check(flag: "--to")
    }
}

/// The forms of `Forms` as help names them: ".ivecs, .ibin or native".
func formNames<Forms: FormList>(_ forms: Forms.Type) -> String {
    listed(Forms.forms.filter { $0 != .native }.map { "." + $0.rawValue } + (Forms.forms.contains(.native) ? ["native"] : []))
}

/// Refuses an output name whose extension names none of `Forms`, or `.zst`.
func checkForm<Forms: FormList>(of path: String, _ forms: Forms.Type, flag: String) throws {
    try checkForm(of: path, allowed: Set(Forms.forms), what: Forms.what, flag: flag)
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
    func engine(for index: PackedIndex, threads: Int) throws -> QueryEngine { try routed(index, threads: threads).engine }

    /// The engine, and the checksum of the model it routes with (nil: centroid routing).
    func routed(_ index: PackedIndex, threads: Int) throws -> (engine: QueryEngine, model: UInt32?) {
        let file = try model.map { try ModelFile(path: $0, for: index) }
        let router: any ClusterRouter = try file?.router() ?? CentroidRouter(centroids: index.centroids, dim: index.dim, metric: index.metric)
        return (QueryEngine(index: index, router: router, threads: threads), file?.checksum)
    }

    /// The parameters of a search with `probe`, weighted and pruned as the options say.
    func parameters(_ probe: ProbeSelection) -> SearchParameters {
        SearchParameters(probe: probe, sizeWeight: sizeWeight, prune: prune.map(Float.init))
    }
}

/// What a router holds in memory beyond the index directory, in MB and bytes per base vector.
func routerMemory(_ router: any ClusterRouter, index: PackedIndex) -> String {
    routerMemory(footprint: router.footprint, baseCount: index.baseCount)
}

/// The same, from a footprint of `f` bytes over `baseCount` base vectors.
func routerMemory(footprint f: Int, baseCount: Int) -> String {
    "\(MemoryFit.megabytes(f)), \(String(format: "%.2f", Double(f) / Double(max(1, baseCount)))) B per base vector"
}

/// Checks the files of an `.allUnrecognized` argument array: an unknown option is refused by
/// name (the array would take it for a file); with `--merge`, at least one part (`parts` names
/// them) and at most one from stdin; without it, one file at most (`single` says what one).
func checkInputs(_ inputs: [String], merge: Bool, parts: String, single: String) throws {
    if let unknown = inputs.first(where: { $0.hasPrefix("-") && $0 != "-" }) { throw ValidationError("unknown option '\(unknown)'") }
    if merge {
        if inputs.isEmpty { throw ValidationError("--merge needs the \(parts)") }
        if inputs.filter({ $0 == "-" }).count > 1 { throw ValidationError("only one part can be read from stdin") }
    } else if inputs.count > 1 {
        throw ValidationError("unexpected argument '\(inputs[1])': \(single)")
    }
}

/// The shard parts named by `files` ("-" for stdin) and their names in messages.
func loadShardParts(_ files: [String]) throws -> (parts: [ShardPart], names: [String]) {
    let names = files.map { $0 == "-" ? "<stdin>" : $0 }
    return (try zip(files, names).map { try ShardPart.decode(Array(readTextFile($0.0).utf8), source: $0.1) }, names)
}
