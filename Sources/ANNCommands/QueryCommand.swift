import ANNKit
import Foundation
import ArgumentParser

public struct QueryCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ann-query",
        abstract: "Answer k-nearest-neighbour queries from a packed index on storage.",
        discussion: """
            Reads queries (QUERIES, or stdin) and writes, per query, the k nearest vectors found \
            (a neighbour list, like ann-groundtruth). Clusters are ranked by centroid distance, or \
            by a router model (--model, from ann-train); \
            each query fetches the --nprobe best, clusters in rank order until --budget \
            vectors, or (with a model) every cluster whose probability per vector clears \
            --threshold. Queries run in batches: within a batch each needed cluster is read once with \
            pread, its checksum verified, decompressed and scanned exactly for every query that \
            chose it, on all cores. Per-query figures (--stats, -v) count what each query needed \
            as if it ran alone; micros is the wall time of its batch (its latency with --batch 1).
            """,
        version: toolVersion)

    @Option(help: ArgumentHelp("The packed index (from ann-pack): a path, or an s3:// or http(s):// URL (required unless --merge).", valueName: "file"))
    var index: String?

    @Option(help: ArgumentHelp("Answer only the i-th of N contiguous slices of the queries (0-based), read by position; --stats numbers them as in the whole file. --merge joins the N results.", valueName: "i/N"))
    var shard: Shard?

    @Flag(help: "Join the results of the shards of one query file (the arguments, in shard order) into the result of the whole file.")
    var merge = false

    @Option(name: .short, help: "Neighbours per query.")
    var k = 10

    @Option(help: ArgumentHelp("Fetch the N best-ranked clusters per query (default 8).", valueName: "n"))
    var nprobe: Int?

    @Option(help: ArgumentHelp("Fetch clusters in rank order until V vectors are fetched (at least one cluster).", valueName: "v"))
    var budget: Int?

    @Option(help: ArgumentHelp("With --model: fetch every cluster whose probability of holding the nearest neighbour, per vector it holds, is at least P (at least one cluster).", valueName: "p"))
    var threshold: Double?

    @OptionGroup var routing: RoutingOptions




    @Option(help: ArgumentHelp("Write per-query figures as TSV: query, clusters, vectors, bytes, requests, micros.", valueName: "file"))
    var stats: String?

    @Option(help: ArgumentHelp("Queries that share cluster reads.", valueName: "n"))
    var batch = 4096

    @Option(help: ArgumentHelp("Worker threads (default: the number of online cores).", valueName: "n"))
    var threads: Int?
    /// The worker threads a run uses.
    var workers: Int { threads ?? Machine.cores }

    @Flag(help: "Drop the index from the page cache first (to measure reads from the device).")
    var dropCache = false

    @Option(help: ArgumentHelp("Distance: must match the index's (default: the index's).", valueName: "metric"))
    var metric: Metric?

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
            if index != nil || shard != nil || stats != nil || routing.model != nil || nprobe != nil || budget != nil || threshold != nil
                || dropCache || metric != nil || input.from != nil {
                throw ValidationError("--merge takes the shards' results alone, with -o and --to: no index, query or search option")
            }
            try output.check()
            return
        }
        if index == nil { throw ValidationError("missing --index") }
        if shard != nil && (queriesPath == nil || queriesPath == "-") { throw ValidationError("--shard reads the queries by position: not from stdin") }
        try Bounds.checkNeighbors(k)
        if [nprobe != nil, budget != nil, threshold != nil].filter({ $0 }).count > 1 {
            throw ValidationError("--nprobe, --budget and --threshold exclude each other")
        }
        if let t = threshold, !(t > 0 && t <= 1) { throw ValidationError("--threshold must be in (0, 1]") }
        try routing.checkThreshold(threshold != nil)
        if let n = nprobe, n < 1 { throw ValidationError("--nprobe must be at least 1") }
        if let b = budget, b < 1 { throw ValidationError("--budget must be at least 1") }
        if batch < 1 || batch > Bounds.batch { throw ValidationError("--batch must be at least 1 and at most \(Bounds.batch)") }
        if let threads { try Bounds.checkThreads(threads) }
        if let s = stats, s != "-", s == output.output { throw ValidationError("--stats and -o name the same file") }
        if stats == "-" && (output.output == nil || output.output == "-") {
            throw ValidationError("--stats and the results cannot both go to stdout")
        }
        try output.check()
    }

    var selection: ProbeSelection {
        if let t = threshold { return .threshold(Float(t)) }
        return budget.map(ProbeSelection.budget) ?? .nprobe(nprobe ?? SearchParameters.defaultNprobe)
    }

    public func run() throws {
        AllocatorPolicy.returnLargeBlocks()
        let say = Reporter(tool: "ann-query", verbosity: verbosity)
        let clock = Stopwatch()
        if merge {
            let out = try openOutput(output.output)
            try NeighborListWriter.join(try inputs.map { try NeighborList.load($0) }, names: inputs.map { $0 == "-" ? "<stdin>" : $0 },
                                        to: out, format: output.format)
            try out.commit()
            return
        }
        let index = self.index!
        let idx = try PackedIndex(path: index)
        let opened = idx.storage.statistics
        _ = try Metric.resolve(recorded: idx.metric, requested: metric, source: index)
        let queries = try VectorReader(path: queriesPath, from: input.from)
        if let shard { try queries.restrict(to: shard) }
        try idx.checkQueries(queries)
        if k > idx.vectorCount { throw ANNError.usage("-k (\(k)) is larger than the index (\(idx.vectorCount) vectors)") }
        let out = try openOutput(output.output)
        let statsOut = try stats.map { try openOutput($0) }
        if dropCache { idx.dropCache() }
        let engine = try routing.engine(for: idx, threads: workers)
        say.info("router memory: \(routerMemory(engine.router, index: idx))")
        // Answers go out batch by batch: a pipe sees each batch when it is done, and a stream of
        // any length runs in the memory of one batch (-v keeps the per-query figures it reports).
        let writer = try NeighborListWriter(output: out, format: output.format, k: k, metric: idx.metric, count: queries.count)
        // The stats of shards after the first have no header line: `cat` of the parts is the
        // table of the whole file.
        if (shard?.index ?? 0) == 0 { try statsOut?.sink.write(Array(StatsTable.columns.joined(separator: "\t").utf8) + [10]) }
        var kept = [QueryEngine.QueryStats]()
        try BatchSearch.run(engine: engine, queries: queries, k: k, batch: batch, parameters: routing.parameters(selection),
                            describe: { [k, workers] n in "-k \(k) for a batch of \(n) queries on \(workers) threads" }) { list, st in
            let first = queries.firstID + writer.written
            try writer.write(list)
            if out.path == nil { try out.sink.flush() }
            if let statsOut {
                var text = ""
                for (i, s) in st.enumerated() { text += "\(first + i)\t\(s.clusters)\t\(s.vectors)\t\(s.bytes)\t\(s.requests)\t\(s.micros)\n" }
                try statsOut.sink.write(Array(text.utf8))
                if statsOut.path == nil { try statsOut.sink.flush() }
            }
            if verbosity.verbose { kept += st }
            say.progress("queries", done: writer.written, total: queries.count)
        }
        say.clearProgress()
        try writer.finish()
        try statsOut?.commit()
        try out.commit()
        if verbosity.verbose {
            let t = engine.totals, n = writer.written
            say.info("\(n) queries in \(seconds(t.seconds)): \(String(format: "%.0f", Double(n) / max(t.seconds, 1e-9))) queries/s on \(workers) thread\(workers == 1 ? "" : "s")")
            for (name, values) in [("clusters", kept.map(\.clusters)), ("vectors", kept.map(\.vectors)), ("bytes", kept.map(\.bytes)),
                                   ("requests", kept.map(\.requests)), ("micros", kept.map(\.micros))] {
                say.info("\(name) per query: \(spread(values))")
            }
            let s = idx.storage.statistics
            say.info("read \(t.clustersRead) cluster frames, \(t.bytesRead) bytes from storage; total \(seconds(clock.seconds))")
            say.info("storage: \(s.requests - opened.requests) requests in \(s.waves - opened.waves) waves, \(s.bytes - opened.bytes) bytes, \(seconds(s.seconds - opened.seconds)) waiting; opening the index: \(opened.requests) requests, \(opened.bytes) bytes")
        }
    }
}
