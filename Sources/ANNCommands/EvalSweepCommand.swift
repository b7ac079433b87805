import ANNKit
import Foundation
import ArgumentParser

struct EvalSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Sweep --nprobe, --budget or --threshold and write the recall-versus-fetch curve.")

    @Option(help: ArgumentHelp("The packed index (required unless --merge).", valueName: "file"))
    var index: String?

    @OptionGroup var truth: TruthOptions

    @Option(help: ArgumentHelp("Sweep only the i-th of N contiguous slices of the queries (0-based), read by position, against the rows of --gt for them; writes the slice's tallies (a shard part) for --merge.", valueName: "i/N"))
    var shard: Shard?

    @Flag(help: "Add up the parts of the slices of one query file (the arguments, in slice order) into the curve of the whole file.")
    var merge = false

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

    @Option(help: ArgumentHelp("Name of the curve in the TSV and on plots (default: the index's file name; with --merge, the parts').", valueName: "text"))
    var label: String?

    @Option(help: ArgumentHelp("Worker threads (default: the number of online cores).", valueName: "n"))
    var threads: Int?
    /// The worker threads a run uses.
    var workers: Int { threads ?? Machine.cores }

    @OptionGroup var input: InputOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the curve (TSV; with --shard, the part) to FILE and the summary to stdout (default: the curve to stdout, the summary to stderr).", valueName: "file"))
    var output: String?
    @OptionGroup var verbosity: VerbosityOptions

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Query vectors (default: stdin); with --merge, the parts of the slices.", valueName: "queries"))
    var inputs: [String] = []
    var queriesPath: String? { inputs.first }

    func validate() throws {
        try checkInputs(inputs, merge: merge, parts: "parts of the slices", single: "one query file at a time (parts go with --merge)")
        if !(target > 0 && target <= 1) { throw ValidationError("--target must be in (0, 1]") }
        if merge {
            if index != nil || truth.gt != nil || truth.gtDistances != nil || shard != nil || nprobe != nil || budget != nil || threshold != nil
                || routing.model != nil || routing.prune != nil || routing.sizeWeight != 0 || threads != nil || input.from != nil {
                throw ValidationError("--merge takes the slices' parts alone, with --label, --target and -o: no index, ground truth, query or search option")
            }
            return
        }
        if index == nil { throw ValidationError("missing --index") }
        if truth.gt == nil { throw ValidationError("missing --gt") }
        if shard != nil && (queriesPath == nil || queriesPath == "-") { throw ValidationError("--shard reads the queries by position: not from stdin") }
        if [nprobe != nil, budget != nil, threshold != nil].filter({ $0 }).count > 1 {
            throw ValidationError("--nprobe, --budget and --threshold exclude each other")
        }
        try routing.checkThreshold(threshold != nil)
        try Bounds.checkNeighbors(k)
        if let threads { try Bounds.checkThreads(threads) }
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
        if merge {
            let (parts, names) = try loadShardParts(inputs)
            let run = try SweepShards.merge(parts, names: names)
            let out = try openOutput(output, text: true)
            let curve = RecallCurve(label: label ?? run.label, points: run.tallies.map(\.point))
            try out.sink.write(Array(curve.tsv().utf8))
            try out.commit()
            try report(curve, queries: run.queries, vectors: run.vectorCount, clusters: run.clusterCount,
                       memory: routerMemory(footprint: run.routerFootprint, baseCount: run.baseCount), truthK: run.truthK)
            return
        }
        let say = Reporter(tool: "ann-eval", verbosity: verbosity)
        let index = self.index!
        let idx = try PackedIndex(path: index)
        var t = try truth.load(metric: idx.metric, of: "the index \(index)")
        let reader = try VectorReader(path: queriesPath, from: input.from)
        let total = reader.count
        if let shard { try reader.restrict(to: shard) }
        try idx.checkQueries(reader)
        let q = try reader.readAll()
        let whole = t
        if shard != nil {
            guard total == t.count else {
                throw ANNError.badData(source: truth.gt!, message: "\(t.count) queries of ground truth, \(total ?? 0) queries")
            }
            t = t.rows(reader.firstID..<(reader.firstID + q.count / idx.dim))
        }
        guard q.count / idx.dim == t.count else {
            throw ANNError.badData(source: truth.gt!, message: "\(t.count) queries of ground truth, \(q.count / idx.dim) queries")
        }
        // Each worker keeps k neighbours (id and distance) for every query.
        try MemoryLimit.check(count: t.count * k * (workers + 1), size: 8, for: "-k \(k) for \(t.count) queries on \(workers) threads")
        let out = try openOutput(output, text: true)
        let (engine, model) = try routing.routed(idx, threads: workers)
        let all = try settings().map { (name: settingName($0), parameters: routing.parameters($0)) }
        let tallies = try RecallSweep.run(engine: engine, queries: q, truth: t, k: k, settings: all, source: index) { done, p in
            say.progress("settings", done: done, total: all.count)
            say.info("\(p.setting): recall@1 \(fmt4(p.recall1)), \(fmt1(p.vectors)) vectors per query")
        }
        say.clearProgress()
        let curve = RecallCurve(label: label ?? baseName(index), points: tallies.map(\.point))
        if let shard, let total {
            let identity = SweepShards.identity(index: idx, truth: whole, model: model, routerFootprint: engine.router.footprint, k: k, label: curve.label)
            try SweepShards.part(tallies, shard: shard, total: total, identity: identity).write(to: out)
        } else {
            try out.sink.write(Array(curve.tsv().utf8))
        }
        try out.commit()
        try report(curve, queries: t.count, vectors: idx.vectorCount, clusters: idx.clusterCount,
                   memory: routerMemory(engine.router, index: idx), truthK: t.k)
    }

    /// The summary: each point, and the fetch at --target.
    func report(_ curve: RecallCurve, queries: Int, vectors: Int, clusters: Int, memory: String, truthK: Int) throws {
        let points = curve.points
        var summary = "\(curve.label): \(queries) queries\(shard.map { " (slice \($0))" } ?? ""), \(vectors) vectors in \(clusters) clusters\n"
        summary += "router memory: \(memory)\n"
        let width = max(14, (points.map(\.setting.count).max() ?? 0) + 2)
        summary += "setting".padding(toLength: width, withPad: " ", startingAt: 0) + "recall@1  recall@10  vectors/query  bytes/query\n"
        for p in points {
            summary += p.setting.padding(toLength: width, withPad: " ", startingAt: 0) + fmt4(p.recall1) + "    "
                + (p.recall10.map(fmt4) ?? RecallCurve.notAvailable.padding(toLength: 6, withPad: " ", startingAt: 0)) + "     " + fmt1(p.vectors).leftPad(13) + "  " + fmt1(p.bytes).leftPad(11) + "\n"
        }
        if points.contains(where: { $0.recall10 == nil }) { summary += "recall@10: \(recall10NotAvailable(k: truthK))\n" }
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
