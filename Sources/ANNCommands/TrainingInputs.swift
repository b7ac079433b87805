import ANNKit
import ArgumentParser

/// --gt, --index and the training queries, what ann-train and ann-dup both read for the index
/// they route for, and the former --assignments they both refuse: declared once, so that the
/// two tools cannot drift apart (they must see the same training examples).
struct TrainingInputs: ParsableArguments {
    @Option(help: ArgumentHelp("Exact neighbours of the training queries (native list, or .ivecs; required, but with ann-dup --merge).", valueName: "file"))
    var gt: String?

    /// Refused: kept only to say where membership comes from now.
    @Option(help: ArgumentHelp(visibility: .private))
    var assignments: String?

    @Option(help: ArgumentHelp("The packed index the model routes for; its clusters say which hold each neighbour.", valueName: "file"))
    var index: String

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Training queries (default: stdin); with ann-dup --merge, the parts of the slices.", valueName: "queries"))
    var files: [String] = []
    var queries: String? { files.first }

    init() {}

    /// Membership comes from the index, so an assignment of another clustering cannot be
    /// combined with it.
    func validate() throws {
        if assignments != nil {
            throw ValidationError("--assignments is no longer taken: cluster membership comes from the index (--index)")
        }
    }

    /// Refuses a --validation share that would hold out half the queries or more.
    static func checkValidation(_ share: Double) throws {
        if !(share >= 0 && share < 0.5) { throw ValidationError("--validation must be in [0, 0.5)") }
    }

    /// Refuses a run without --gt, or with more than one file of training queries.
    func checkQueries() throws {
        try checkInputs(files, merge: false, parts: "", single: "one file of training queries")
        if gt == nil { throw ValidationError("missing --gt") }
    }

    /// The training queries (in the form `from`; only `shard`'s slice of them, if given) and
    /// their ground truth, for `index`.
    func load(for index: PackedIndex, from: FileFormat?, shard: Shard? = nil) throws -> TrainingSet {
        try TrainingSet(index: index, indexName: self.index, queries: queries, from: from, truth: gt!, shard: shard)
    }
}
