import ANNKit
import ArgumentParser
import Foundation

/// How `ann-eval compare` writes its table.
enum ComparisonFormat: String, CaseIterable, ExpressibleByArgument {
    case markdown, tsv
}

struct EvalCompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Compare sweep curves: the fetch at recall@1 targets, and its ratio to a baseline.",
        discussion: """
            Reads curves written by ann-eval sweep and reads off each the vectors and bytes fetched per query \
            where recall@1 first reaches --target and each of --levels, interpolated as sweep's summary does. \
            Writes a Markdown table (a row per curve; a column per level, the kilobytes at the target and the \
            ratio at the target to each --baseline, by default the first curve) followed by the curve that \
            fetches the fewest vectors at the target, or with --format tsv a row per curve and level.
            """)

    @Option(help: ArgumentHelp("Recall@1 at which to compare bytes and ratios and name the fewest.", valueName: "r"))
    var target = 0.9

    @Option(help: ArgumentHelp("Comma-separated recall@1 levels whose fetch to show too.", valueName: "list"))
    var levels: String?

    @Option(help: ArgumentHelp("A curve to take ratios against; repeat for more (default: the first curve).", valueName: "file"))
    var baseline: [String] = []

    @Option(help: ArgumentHelp("markdown (a table) or tsv (a row per curve and level).", valueName: "format"))
    var format = ComparisonFormat.markdown

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the comparison to FILE (default: stdout).", valueName: "file"))
    var output: String?

    @OptionGroup var verbosity: VerbosityOptions

    @Argument(help: ArgumentHelp("Curves written by ann-eval sweep (- for stdin).", valueName: "curve"))
    var curves: [String] = []

    func validate() throws {
        if curves.isEmpty { throw ValidationError("name at least one curve file") }
        if !(target > 0 && target <= 1) { throw ValidationError("--target must be in (0, 1]") }
        _ = try levelValues()
        try checkOneStandardInput(curves.map { ("curve \($0)", readsStandardInput($0)) } + baseline.map { ("--baseline \($0)", readsStandardInput($0)) })
    }

    func levelValues() throws -> [Double] {
        guard let levels else { return [] }
        let v = levels.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard v.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 2) <= 1 }) else {
            throw ValidationError("--levels takes a comma-separated list of numbers in (0, 1]")
        }
        return v.map { $0! }
    }

    func run() throws {
        // A curve named twice (as a curve and a baseline) is read once: stdin cannot be read twice.
        var read = [String: RecallCurve]()
        func load(_ path: String) throws -> (source: String, curve: RecallCurve) {
            if let c = read[path] { return (path, c) }
            let c = try RecallCurve.parse(try readTextFile(path), source: path == "-" ? "<stdin>" : path)
            read[path] = c
            return (path, c)
        }
        let comparison = CurveComparison(curves: try curves.map(load), baselines: try baseline.map(load),
                                         target: target, levels: try levelValues())
        let out = try openOutput(output, text: true)
        try out.sink.write(Array((format == .tsv ? comparison.tsv() : comparison.markdown()).utf8))
        try out.commit()
    }
}
