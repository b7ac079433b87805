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
            the centroids do not change) and continue training with ann-train --init. With \
            --next-index it writes that index itself, from the vectors the index already holds: \
            the clusters that gain no copy keep their frames as they are, and the result is the \
            index ann-pack would make from the base and the new assignment, byte for byte. \
            On many machines, --shard i/N marks the pairs of one slice of the queries and writes \
            them (-o) as a shard part; --merge ranks the parts' pairs together and writes what \
            one process would have.
            """,
        version: toolVersion)

    @Option(help: ArgumentHelp("The router model (from ann-train; required unless --merge).", valueName: "file"))
    var model: String?

    @Option(help: ArgumentHelp("Mark only the pairs of the i-th of N contiguous slices of the queries (0-based), read by position, against the rows of --gt for them; -o writes them as a shard part for --merge.", valueName: "i/N"))
    var shard: Shard?

    @Flag(help: "Rank the marked pairs of the parts of all slices (the arguments, in slice order) together and copy as one process would; takes --index, not --model or --gt.")
    var merge = false

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
    var output: String?

    @Option(help: ArgumentHelp("Write the next packed index to FILE, from the index's own vectors (no pass over the base).", valueName: "file"))
    var nextIndex: String?
    @OptionGroup var verbosity: VerbosityOptions

    public init() {}

    public func validate() throws {
        if !(fraction >= 0 && fraction <= 1) { throw ValidationError("--fraction must be between 0 and 1") }
        try TrainingInputs.checkValidation(validation)
        if merge {
            try checkInputs(inputs.files, merge: true, parts: "parts of the slices", single: "")
            if model != nil || inputs.gt != nil || shard != nil || input.from != nil {
                throw ValidationError("--merge takes the slices' parts with --index: not --model, --gt, --shard or --from")
            }
        } else {
            try inputs.checkQueries()
            if model == nil { throw ValidationError("missing --model") }
        }
        if let shard = shard {
            if inputs.queries == nil || inputs.queries == "-" { throw ValidationError("--shard reads the queries by position: not from stdin") }
            guard output != nil, nextIndex == nil else { throw ValidationError("--shard writes the slice's marked pairs with -o, for --merge: no --next-index (\(shard))") }
            return
        }
        guard output != nil || nextIndex != nil else { throw ValidationError("missing -o (the new assignment) or --next-index (the next index)") }
        if let output { try checkForm(of: output, AssignmentForms.self, flag: "-o") }
        if let nextIndex {
            try checkForm(of: nextIndex, allowed: [.native], what: "a packed index", flag: "--next-index")
            if nextIndex == output { throw ValidationError("-o and --next-index name the same file") }
            if nextIndex == inputs.index { throw ValidationError("--next-index names the index being read (--index)") }
        }
    }

    public func run() throws {
        let say = Reporter(tool: "ann-dup", verbosity: verbosity)
        let idx = try PackedIndex(path: inputs.index)
        let marks: [Duplication.Mark], pairs: Int, membership: Assignment
        if merge {
            let (parts, names) = try loadShardParts(inputs.files)
            (marks, pairs) = try DuplicationShards.merge(parts, names: names, index: idx)
            membership = try Assignment(index: idx)
        } else {
            let file = try ModelFile(path: model!, for: idx)
            let router = try file.router()
            let set = try inputs.load(for: idx, from: input.from, shard: shard)
            let examples = try set.examples()
            marks = Duplication.mark(model: router, examples: examples, keys: set.keys, firstQuery: set.firstQuery,
                                     skip: { [validation] in RouterExamples.isHeldOut($0, validation: validation) })
            if let shard, let output {
                let out = try openOutput(output, text: true)
                let identity = DuplicationShards.identity(index: idx, truthChecksum: set.truthChecksum, model: file.checksum, validation: validation)
                try DuplicationShards.part(marks, shard: shard, total: set.fileQueries, identity: identity).write(to: out)
                try out.commit()
                say.info("\(examples.count) training pairs of slice \(shard), \(marks.count) marked")
                return
            }
            (pairs, membership) = (examples.count, set.assignment)
        }
        let out = try output.map { try openOutput($0) }
        let nextOut = try nextIndex.map { try openOutput($0) }
        let (result, r) = Duplication.apply(marks, pairs: pairs, assignment: membership, fraction: fraction, ranking: rank, seed: seed)
        if let out, let output {
            try result.write(to: out, format: formatOf(output),
                             identity: AssignmentIdentity(clustering: idx.fingerprint, base: idx.baseFingerprint, baseCount: idx.baseCount))
        }
        if let nextOut {
            let packed = try IndexRewriter.write(from: idx, current: membership, next: result, to: nextOut) {
                say.progress("clusters written", done: $0, total: idx.clusterCount)
            }
            say.clearProgress()
            try nextOut.commit()
            say.info("next index: \(packed.clusterSizes.count) clusters, \(packed.copies) stored vectors, \(packed.fileBytes) bytes")
        }
        try out?.commit()
        let before = r.sizesBefore.reduce(0, +), after = r.sizesAfter.reduce(0, +)
        let growth = zip(r.sizesBefore, r.sizesAfter).map { $1 - $0 }
        say.info("\(r.pairs) training pairs, \(r.marked) marked (\(fmt1(100 * Double(r.marked) / Double(max(1, r.pairs))))%), \(r.copies) copies made")
        say.info("stored vectors \(before) -> \(after) (+\(fmt2(100 * Double(after - before) / Double(max(1, before))))%); largest cluster \(r.sizesBefore.max() ?? 0) -> \(r.sizesAfter.max() ?? 0); most grown cluster +\(growth.max() ?? 0)")
    }
}
