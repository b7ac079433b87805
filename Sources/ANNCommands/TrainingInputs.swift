import ANNKit
import ArgumentParser

/// --gt and --index, what ann-train and ann-dup both read for the index they route for, and
/// the former --assignments they both refuse: declared once, so that the two tools cannot
/// drift apart (they must see the same training examples).
struct TrainingInputs: ParsableArguments {
    @Option(help: ArgumentHelp("Exact neighbours of the training queries (native list, or .ivecs).", valueName: "file"))
    var gt: String

    /// Refused: kept only to say where membership comes from now.
    @Option(help: ArgumentHelp(visibility: .private))
    var assignments: String?

    @Option(help: ArgumentHelp("The packed index the model routes for; its clusters say which hold each neighbour.", valueName: "file"))
    var index: String

    init() {}

    /// Membership comes from the index, so an assignment of another clustering cannot be
    /// combined with it.
    func validate() throws {
        if assignments != nil {
            throw ValidationError("--assignments is no longer taken: cluster membership comes from the index (--index)")
        }
    }

    /// The training queries at `queries` (in the form `from`) and their ground truth, for `index`.
    func load(for index: PackedIndex, queries: String?, from: FileFormat?) throws -> TrainingSet {
        try TrainingSet(index: index, indexName: self.index, queries: queries, from: from, truth: gt)
    }
}
