import ANNKit
import ArgumentParser

public struct GroundTruthCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ann-groundtruth",
        abstract: "Compute the exact k nearest base vectors of every query.",
        discussion: """
            Reads queries (QUERIES, or stdin) and writes, per query, the ids and distances of its \
            k exact nearest neighbours in the base, nearest first, ties broken by the smaller id. \
            The base is streamed in blocks and never held whole; the queries and their k \
            candidates are held in memory. Distances come from sgemm and every candidate is \
            re-measured exactly, so results do not depend on rounding.
            """,
        version: toolVersion)

    @Option(help: ArgumentHelp("Base vectors to search (required unless --merge).", valueName: "file"))
    var base: String?

    @Option(help: ArgumentHelp("Search only the i-th of N contiguous slices of the base (0-based), read by position; ids stay those of the whole base. --merge combines the N results.", valueName: "i/N"))
    var shard: Shard?

    @Flag(help: "Merge the results of the shards of one base (the arguments, from --shard) into the result over the whole base.")
    var merge = false

    @Option(help: ArgumentHelp("Form of the base when its name does not tell.", valueName: "form"))
    var baseFrom: NamedForm<VectorForms>?

    @Option(name: .short, help: "Neighbours per query (required unless --merge).")
    var k: Int?

    @OptionGroup var metric: MetricOptions
    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions<NeighborListForms>
    @OptionGroup var verbosity: VerbosityOptions

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Query vectors (default: stdin); with --merge, the results of the shards.", valueName: "queries"))
    var inputs: [String] = []
    var queriesPath: String? { inputs.first }

    public init() {}

    public func validate() throws {
        try checkInputs(inputs, merge: merge, parts: "results of the shards", single: "one query file at a time (several files go with --merge)")
        if merge {
            if base != nil || shard != nil || k != nil || input.from != nil {
                throw ValidationError("--merge takes the shards' results alone: not --base, --shard, -k or --from")
            }
            try output.check()
            return
        }
        guard let k else { throw ValidationError("missing -k") }
        guard let base else { throw ValidationError("missing --base") }
        try Bounds.checkNeighbors(k)
        if shard != nil && base == "-" { throw ValidationError("--shard reads the base by position: not from stdin") }
        if base == "-" && (queriesPath == nil || queriesPath == "-") {
            throw ValidationError("the base and the queries cannot both be read from stdin")
        }
        try baseFrom?.check(flag: "--base-from")
        try output.check()
    }

    public func run() throws {
        let say = Reporter(tool: "ann-groundtruth", verbosity: verbosity)
        let clock = Stopwatch()
        if merge {
            let out = try openOutput(output.output)
            let parts = try inputs.map { try NeighborList.load($0) }
            try GroundTruth.merge(parts, names: inputs.map { $0 == "-" ? "<stdin>" : $0 }).write(to: out, format: output.format)
            try out.commit()
            say.info("merged \(parts.count) shards of \(parts[0].count) queries in \(seconds(clock.seconds))")
            return
        }
        let k = self.k!
        let queries = try VectorReader(path: queriesPath, from: input.from)
        let baseReader = try VectorReader(path: base!, from: baseFrom?.format)
        if let shard { try baseReader.restrict(to: shard) }
        let out = try openOutput(output.output)
        let q = try queries.readAll()
        say.info("read \(q.count / queries.dim) queries of dimension \(queries.dim) in \(seconds(clock.seconds))")
        let list = try GroundTruth.compute(queries: q, dim: queries.dim, base: baseReader, k: k, metric: metric.metric) {
            say.progress("base vectors", done: $0, total: $1)
        }
        say.clearProgress()
        say.info("searched \(baseReader.recordsRead) base vectors in \(seconds(clock.seconds))")
        try list.write(to: out, format: output.format)
        try out.commit()
    }
}
