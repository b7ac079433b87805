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

    @Option(help: ArgumentHelp("Base vectors to search.", valueName: "file"))
    var base: String

    @Option(help: ArgumentHelp("Form of the base when its name does not tell.", valueName: "form"))
    var baseFrom: NamedForm<VectorForms>?

    @Option(name: .short, help: "Neighbours per query.")
    var k: Int

    @OptionGroup var metric: MetricOptions
    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions<NeighborListForms>
    @OptionGroup var verbosity: VerbosityOptions

    @Argument(help: ArgumentHelp("Query vectors (default: stdin).", valueName: "queries"))
    var queriesPath: String?

    public init() {}

    public func validate() throws {
        try Bounds.checkNeighbors(k)
        if base == "-" && (queriesPath == nil || queriesPath == "-") {
            throw ValidationError("the base and the queries cannot both be read from stdin")
        }
        try baseFrom?.check(flag: "--base-from")
        try output.check()
    }

    public func run() throws {
        let say = Reporter(tool: "ann-groundtruth", verbosity: verbosity)
        let clock = Stopwatch()
        let queries = try VectorReader(path: queriesPath, from: input.from)
        let baseReader = try VectorReader(path: base, from: baseFrom?.format)
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
