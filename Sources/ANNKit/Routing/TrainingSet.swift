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
    /// The number in the whole file of the first query (of a slice), the queries in the whole
    /// file, and the checksum of the whole file's ground truth (`NeighborList.checksum`).
    public private(set) var firstQuery = 0
    public private(set) var fileQueries = 0
    public let truthChecksum: UInt32

    /// Reads the queries at `path` (nil or "-" for stdin; `from` names their form where the
    /// name cannot) and their ground truth `gt` for `index`, named `indexName` in messages;
    /// with a `shard`, the slice of the queries and the ground truth's rows for it.
    public init(index: PackedIndex, indexName: String, queries path: String?, from: FileFormat?, truth gt: String, shard: Shard? = nil) throws {
        let reader = try VectorReader(path: path, from: from)
        let total = reader.count
        if let shard { try reader.restrict(to: shard) }
        try index.checkQueries(reader)
        queries = try reader.readAll()
        index.metric.prepare(&queries, d: index.dim)
        truth = try NeighborList.loadTruth(gt, metric: index.metric, comparedWith: "the index \(indexName)")
        truthChecksum = truth.checksum
        dim = index.dim
        fileQueries = queries.count / dim
        if shard != nil {
            guard let total, truth.count == total else {
                throw ANNError.badData(source: gt, message: "\(truth.count) queries of ground truth, \(total ?? 0) queries in \(reader.name)")
            }
            firstQuery = reader.firstID
            fileQueries = total
            truth = truth.rows(firstQuery..<(firstQuery + queries.count / dim))
        }
        assignment = try Assignment(index: index)
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
