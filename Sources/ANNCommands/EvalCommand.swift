import ANNKit
import Foundation
import ArgumentParser

public struct EvalCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ann-eval",
        abstract: "Measure recall against ground truth and the cost of getting it.",
        discussion: """
            score: recall@1, recall@10 and fetch figures of one result list. sweep: runs the \
            queries against an index over a range of --nprobe, --budget or --threshold settings and writes the \
            recall@1-versus-vectors-fetched curve as TSV, with the fetch interpolated at the \
            target recall. plot: draws curves from sweep files with gnuplot. compare: tabulates the \
            fetch of sweep curves at target recalls and its ratio to a baseline. A returned neighbour \
            counts as a hit when its id is the true one or its distance is no worse, so ties count.
            """,
        version: toolVersion,
        subcommands: [EvalScoreCommand.self, EvalSweepCommand.self, EvalPlotCommand.self, EvalCompareCommand.self],
        defaultSubcommand: EvalScoreCommand.self)

    public init() {}
}

/// --gt and --gt-distances, shared by score and sweep.
struct TruthOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Exact neighbours: a native list from ann-groundtruth, or .ivecs ids.", valueName: "file"))
    var gt: String

    @Option(help: ArgumentHelp("Distances for an .ivecs --gt (.fvecs), so that ties count as hits.", valueName: "file"))
    var gtDistances: String?

    /// Loads the truth; a foreign one does not record its metric, so it takes `metric`, the
    /// metric of `what` (the results, or an index).
    func load(metric: Metric, of what: String) throws -> NeighborList {
        try NeighborList.loadTruth(gt, distances: gtDistances, metric: metric, comparedWith: what)
    }
}

/// Refuses a run in which two inputs would read standard input; `inputs` pairs each input's
/// name in the message with whether it reads stdin.
func checkOneStandardInput(_ inputs: [(String, Bool)]) throws {
    let readers = inputs.filter(\.1).map(\.0)
    if readers.count > 1 {
        throw ValidationError("\(readers.joined(separator: " and ")) cannot both be read from stdin")
    }
}

/// Whether an input named `path` (nil for the operand left out) is standard input.
func readsStandardInput(_ path: String?, byDefault: Bool = false) -> Bool { path == "-" || (path == nil && byDefault) }

/// How a recall@10 that is not defined reads in reports: why, in one phrase.
func recall10NotAvailable(_ truth: NeighborList) -> String {
    "\(RecallCurve.notAvailable) (the ground truth has \(truth.k) neighbour\(truth.k == 1 ? "" : "s") per query, recall@10 needs \(Recall.neighboursForAt10))"
}

struct EvalScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score", abstract: "Score one result list (from ann-query) against the ground truth.")

    @OptionGroup var truth: TruthOptions

    @Option(help: ArgumentHelp("Per-query fetch figures from ann-query --stats (- for stdin).", valueName: "file"))
    var stats: String?

    @OptionGroup var verbosity: VerbosityOptions

    @Argument(help: ArgumentHelp("The result list (default: stdin).", valueName: "results"))
    var results: String?

    func validate() throws {
        try checkOneStandardInput([("the results", readsStandardInput(results, byDefault: true)), ("--gt", readsStandardInput(truth.gt)),
                                   ("--gt-distances", readsStandardInput(truth.gtDistances)), ("--stats", readsStandardInput(stats))])
    }

    func run() throws {
        let r = try NeighborList.load(results)
        let t = try truth.load(metric: r.metric, of: "the results")
        let recall = try Recall(results: r, truth: t, source: results ?? "<stdin>")
        var lines = [("queries", "\(recall.queries)"), ("recall@1", fmt4(recall.at1)), ("recall@10", recall.at10.map(fmt4) ?? recall10NotAvailable(t))]
        if let stats {
            let table = try StatsTable(path: stats)
            guard table.rows == recall.queries else {
                throw ANNError.badData(source: table.source, message: "\(table.rows) queries, the results have \(recall.queries)")
            }
            for name in StatsTable.columns.dropFirst() where table.has(name) { lines.append((name, spread(table.column(name)))) }
        }
        try writeStandardOutput(lines.map { $0.0.padding(toLength: 10, withPad: " ", startingAt: 0) + " " + $0.1 + "\n" }.joined())
    }
}

struct EvalSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Sweep --nprobe, --budget or --threshold and write the recall-versus-fetch curve.")

    @Option(help: ArgumentHelp("The packed index.", valueName: "file"))
    var index: String

    @OptionGroup var truth: TruthOptions




    /// The nprobe values swept unless the options name others: dense where recall climbs.
    static let defaultNprobes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 20, 24, 32, 48, 64]

    @Option(help: ArgumentHelp("Comma-separated nprobe values (default \(defaultNprobes.map(String.init).joined(separator: ","))).", valueName: "list"))
    var nprobe: String?

    @Option(help: ArgumentHelp("Comma-separated vector budgets, instead of --nprobe.", valueName: "list"))
    var budget: String?

    @Option(help: ArgumentHelp("Comma-separated probability-per-vector thresholds (with --model), instead of --nprobe.", valueName: "list"))
    var threshold: String?

    @OptionGroup var routing: RoutingOptions

    @Option(name: .short, help: "Neighbours per query (recall@10 needs 10).")
    var k = 10

    @Option(help: ArgumentHelp("Recall@1 at which to report the fetch.", valueName: "r"))
    var target = 0.9

    @Option(help: ArgumentHelp("Name of the curve in the TSV and on plots (default: the index's file name).", valueName: "text"))
    var label: String?

    @Option(help: ArgumentHelp("Worker threads (default: the number of online cores).", valueName: "n"))
    var threads: Int?
    /// The worker threads a run uses.
    var workers: Int { threads ?? Machine.cores }

    @OptionGroup var input: InputOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the curve (TSV) to FILE and the summary to stdout (default: the curve to stdout, the summary to stderr).", valueName: "file"))
    var output: String?
    @OptionGroup var verbosity: VerbosityOptions

    @Argument(help: ArgumentHelp("Query vectors (default: stdin).", valueName: "queries"))
    var queriesPath: String?

    func validate() throws {
        if [nprobe != nil, budget != nil, threshold != nil].filter({ $0 }).count > 1 {
            throw ValidationError("--nprobe, --budget and --threshold exclude each other")
        }
        try routing.checkThreshold(threshold != nil)
        try Bounds.checkNeighbors(k)
        if let threads { try Bounds.checkThreads(threads) }
        if !(target > 0 && target <= 1) { throw ValidationError("--target must be in (0, 1]") }
        _ = try settings()
        try checkOneStandardInput([("the queries", readsStandardInput(queriesPath, byDefault: true)), ("--index", readsStandardInput(index)),
                                   ("--gt", readsStandardInput(truth.gt)), ("--gt-distances", readsStandardInput(truth.gtDistances)),
                                   ("--model", readsStandardInput(routing.model))])
    }

    func settings() throws -> [ProbeSelection] {
        func parse(_ s: String, _ flag: String) throws -> [Int] {
            let v = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !v.isEmpty, v.allSatisfy({ ($0 ?? 0) >= 1 }) else { throw ValidationError("\(flag) takes a comma-separated list of positive integers") }
            return v.map { $0! }
        }
        if let b = budget { return try parse(b, "--budget").map(ProbeSelection.budget) }
        if let t = threshold {
            let v = t.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !v.isEmpty, v.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 2) <= 1 }) else {
                throw ValidationError("--threshold takes a comma-separated list of numbers in (0, 1]")
            }
            return v.map { .threshold(Float($0!)) }
        }
        return try (nprobe.map { try parse($0, "--nprobe") } ?? Self.defaultNprobes).map(ProbeSelection.nprobe)
    }

    func run() throws {
        AllocatorPolicy.returnLargeBlocks()
        let say = Reporter(tool: "ann-eval", verbosity: verbosity)
        let idx = try PackedIndex(path: index)
        let t = try truth.load(metric: idx.metric, of: "the index \(index)")
        let reader = try VectorReader(path: queriesPath, from: input.from)
        try idx.checkQueries(reader)
        let q = try reader.readAll()
        guard q.count / idx.dim == t.count else {
            throw ANNError.badData(source: truth.gt, message: "\(t.count) queries of ground truth, \(q.count / idx.dim) queries")
        }
        // Each worker keeps k neighbours (id and distance) for every query.
        try MemoryLimit.check(count: t.count * k * (workers + 1), size: 8, for: "-k \(k) for \(t.count) queries on \(workers) threads")
        let out = try openOutput(output, text: true)
        let engine = try routing.engine(for: idx, threads: workers)
        let all = try settings().map { (name: settingName($0), parameters: routing.parameters($0)) }
        let points = try RecallSweep.run(engine: engine, queries: q, truth: t, k: k, settings: all, source: index) { done, p in
            say.progress("settings", done: done, total: all.count)
            say.info("\(p.setting): recall@1 \(fmt4(p.recall1)), \(fmt1(p.vectors)) vectors per query")
        }
        say.clearProgress()
        let curve = RecallCurve(label: label ?? baseName(index), points: points)
        try out.sink.write(Array(curve.tsv().utf8))
        try out.commit()
        var summary = "\(curve.label): \(t.count) queries, \(idx.vectorCount) vectors in \(idx.clusterCount) clusters\n"
        summary += "router memory: \(routerMemory(engine.router, index: idx))\n"
        let width = max(14, (points.map(\.setting.count).max() ?? 0) + 2)
        summary += "setting".padding(toLength: width, withPad: " ", startingAt: 0) + "recall@1  recall@10  vectors/query  bytes/query\n"
        for p in points {
            summary += p.setting.padding(toLength: width, withPad: " ", startingAt: 0) + fmt4(p.recall1) + "    "
                + (p.recall10.map(fmt4) ?? RecallCurve.notAvailable.padding(toLength: 6, withPad: " ", startingAt: 0)) + "     " + fmt1(p.vectors).leftPad(13) + "  " + fmt1(p.bytes).leftPad(11) + "\n"
        }
        if points.contains(where: { $0.recall10 == nil }) { summary += "recall@10: \(recall10NotAvailable(t))\n" }
        if let v = curve.vectors(atRecall: target) {
            let between = v.between.map { " (interpolated between \($0.0) and \($0.1))" } ?? ""
            summary += "vectors fetched per query at recall@1 \(fmt2(target)): \(fmt1(v.vectors))\(between)\n"
        } else {
            summary += "recall@1 \(fmt2(target)) not reached (best \(fmt4(points.map(\.recall1).max() ?? 0)))\n"
        }
        if !verbosity.quiet || output != nil {
            if output != nil { try writeStandardOutput(summary) } else { writeStandardError(summary) }
        }
    }
}

struct EvalPlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot", abstract: "Plot recall@1 against vectors fetched for one or more sweep files (gnuplot).")

    @Option(name: .shortAndLong, help: ArgumentHelp("The image to write: .svg or .png.", valueName: "file"))
    var output: String

    @Option(help: ArgumentHelp("Title of the plot.", valueName: "text"))
    var title = "recall@1 against vectors fetched per query"

    @Option(help: ArgumentHelp("Draw a line at this recall@1.", valueName: "r"))
    var target = 0.9

    @OptionGroup var verbosity: VerbosityOptions

    @Argument(help: ArgumentHelp("Curves written by ann-eval sweep.", valueName: "curve"))
    var curves: [String]

    func validate() throws {
        if curves.isEmpty { throw ValidationError("name at least one curve file") }
        let name = output.lowercased()
        if !name.hasSuffix(".svg") && !name.hasSuffix(".png") { throw ValidationError("-o must end in .svg or .png") }
    }

    func run() throws {
        let parsed = try curves.map { path -> RecallCurve in
            try RecallCurve.parse(try readTextFile(path), source: path)
        }
        try Plotter.plot(parsed, title: title, target: target, to: output)
    }
}

func fmt1(_ v: Double) -> String { String(format: "%.1f", v) }
func fmt2(_ v: Double) -> String { String(format: "%.2f", v) }
func fmt4(_ v: Double) -> String { String(format: "%.4f", v) }
func baseName(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

/// How a curve names a setting: "nprobe=8", "budget=3000", "threshold=0.0001".
func settingName(_ probe: ProbeSelection) -> String {
    switch probe {
    case .nprobe(let v): return "nprobe=\(v)"
    case .budget(let v): return "budget=\(v)"
    case .threshold(let v): return "threshold=\(String(format: "%.3g", v))"
    }
}
