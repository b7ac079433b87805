/// What ann-train and ann-dup both read for the index they route for: the training queries,
/// in the form the index's metric compares them, their ground truth, checked against the
/// index, and the cluster membership, read from the index itself so that it cannot belong to
/// another clustering. The two tools must see the same examples, so both load them here.
public struct TrainingSet {
    /// The share of the queries held out to choose the epoch kept (and never marked for
    /// duplication, so that validation stays blind to it).
    public static let defaultValidation = 0.1

    /// `count × dim` queries, unit length for cos.
    public var queries: [Float]
    public var truth: NeighborList
    public var assignment: Assignment
    public let dim: Int
    /// The ground truth's name in messages.
    public let truthName: String

    /// Reads the queries at `path` (nil or "-" for stdin; `from` names their form where the
    /// name cannot) and their ground truth `gt` for `index`, named `indexName` in messages.
    public init(index: PackedIndex, indexName: String, queries path: String?, from: FileFormat?, truth gt: String) throws {
        let reader = try VectorReader(path: path, from: from)
        try index.checkQueries(reader)
        queries = try reader.readAll()
        index.metric.prepare(&queries, d: index.dim)
        truth = try NeighborList.loadTruth(gt, metric: index.metric, comparedWith: "the index \(indexName)")
        assignment = try Assignment(index: index)
        dim = index.dim
        truthName = gt
    }

    /// Each query with the clusters that hold its nearest neighbour; refuses a ground truth
    /// that is not for these queries or this base.
    public func examples() throws -> RouterExamples {
        try RouterExamples(queries: queries, dim: dim, truth: truth, assignment: assignment, source: truthName)
    }

    /// The nearest neighbour of each query: the key the router must find.
    public var keys: [UInt32] { (0..<(queries.count / max(1, dim))).map { truth.ids[$0 * truth.k] } }
}
