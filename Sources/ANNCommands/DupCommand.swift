import ANNKit
import ArgumentParser
import Foundation

extension Duplication.Ranking: ExpressibleByArgument {}

public struct DupCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ann-dup",
        abstract: "Copy vectors into the clusters a router predicts for them (the paper's duplication step).",
        discussion: """
            Reads training queries (QUERIES, or stdin), their exact neighbours (--gt), a router \
            model and the packed index it routes for (--index), whose clusters are the current \
            membership; marks every (query, key) pair whose top-1 predicted cluster does not hold \
            the key, ranks the marked pairs (--rank), and copies the key of the top --fraction of \
            them into the predicted cluster. Writes the new assignment: the index's membership \
            (each vector's clusters in ascending order, as an index does not record which is the \
            home cluster) with the copies after; repack the index with it (the model stays valid: \
            the centroids do not change) and continue training with ann-train --init.
            """,
        version: toolVersion)

    @Option(help: ArgumentHelp("The router model (from ann-train).", valueName: "file"))
    var model: String

    @OptionGroup var inputs: TrainingInputs

    @Option(help: ArgumentHelp("Share of the marked pairs whose key is copied.", valueName: "f"))
    var fraction = 0.2

    @Option(help: ArgumentHelp("Order of the marked pairs: confidence (most confident mistakes first), margin (near misses first) or random.", valueName: "order"))
    var rank = Duplication.Ranking.confidence

    @Option(help: ArgumentHelp("The share of the queries ann-train holds out (must match its --validation): they are never marked, so validation stays blind to duplication.", valueName: "fraction"))
    var validation = TrainingSet.defaultValidation

    @Option(help: "Random seed (for --rank random).")
    var seed: UInt64 = 1

    @OptionGroup var input: InputOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the new assignment to FILE (\(formNames(AssignmentForms.self))).", valueName: "file"))
    var output: String
    @OptionGroup var verbosity: VerbosityOptions

    public init() {}

    public func validate() throws {
        if !(fraction >= 0 && fraction <= 1) { throw ValidationError("--fraction must be between 0 and 1") }
        try TrainingInputs.checkValidation(validation)
        try checkForm(of: output, AssignmentForms.self, flag: "-o")
    }

    public func run() throws {
        let say = Reporter(tool: "ann-dup", verbosity: verbosity)
        let idx = try PackedIndex(path: inputs.index)
        let router = try ModelFile(path: model, for: idx).router()
        let set = try inputs.load(for: idx, from: input.from)
        let out = try openOutput(output)
        let (result, r) = Duplication.run(model: router, examples: try set.examples(), keys: set.keys, assignment: set.assignment,
                                          fraction: fraction, ranking: rank, seed: seed,
                                          skip: { [validation] in RouterExamples.isHeldOut($0, validation: validation) })
        try result.write(to: out, format: formatOf(output),
                         identity: AssignmentIdentity(clustering: idx.fingerprint, base: idx.baseFingerprint, baseCount: idx.baseCount))
        try out.commit()
        let before = r.sizesBefore.reduce(0, +), after = r.sizesAfter.reduce(0, +)
        let growth = zip(r.sizesBefore, r.sizesAfter).map { $1 - $0 }
        say.info("\(r.pairs) training pairs, \(r.marked) marked (\(fmt1(100 * Double(r.marked) / Double(max(1, r.pairs))))%), \(r.copies) copies made")
        say.info("stored vectors \(before) -> \(after) (+\(fmt2(100 * Double(after - before) / Double(max(1, before))))%); largest cluster \(r.sizesBefore.max() ?? 0) -> \(r.sizesAfter.max() ?? 0); most grown cluster +\(growth.max() ?? 0)")
    }
}
