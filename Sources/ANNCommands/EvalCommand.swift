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
    @Option(help: ArgumentHelp("Exact neighbours: a native list from ann-groundtruth, or .ivecs ids (required; not with sweep --merge).", valueName: "file"))
    var gt: String?

    @Option(help: ArgumentHelp("Distances for an .ivecs --gt (.fvecs), so that ties count as hits.", valueName: "file"))
    var gtDistances: String?

    /// Loads the truth; a foreign one does not record its metric, so it takes `metric`, the
    /// metric of `what` (the results, or an index).
    func load(metric: Metric, of what: String) throws -> NeighborList {
        guard let gt else { throw ANNError.usage("missing --gt") }
        return try NeighborList.loadTruth(gt, distances: gtDistances, metric: metric, comparedWith: what)
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
func recall10NotAvailable(k: Int) -> String {
    "\(RecallCurve.notAvailable) (the ground truth has \(k) neighbour\(k == 1 ? "" : "s") per query, recall@10 needs \(Recall.neighboursForAt10))"
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
        if truth.gt == nil { throw ValidationError("missing --gt") }
        try checkOneStandardInput([("the results", readsStandardInput(results, byDefault: true)), ("--gt", readsStandardInput(truth.gt)),
                                   ("--gt-distances", readsStandardInput(truth.gtDistances)), ("--stats", readsStandardInput(stats))])
    }

    func run() throws {
        let r = try NeighborList.load(results)
        let t = try truth.load(metric: r.metric, of: "the results")
        let recall = try Recall(results: r, truth: t, source: results ?? "<stdin>")
        var lines = [("queries", "\(recall.queries)"), ("recall@1", fmt4(recall.at1)), ("recall@10", recall.at10.map(fmt4) ?? recall10NotAvailable(k: t.k))]
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
