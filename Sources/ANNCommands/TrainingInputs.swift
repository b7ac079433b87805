import ANNKit

/// What ann-train and ann-dup both read for the index they route for: the training queries
/// (normalised for cos, as the index's vectors are), their ground truth and the assignment,
/// each checked against the index. The two tools must see the same examples, so they load
/// them through this one path.
struct TrainingInputs {
    var queries: [Float]
    var truth: NeighborList
    var assignment: Assignment

    init(index idx: PackedIndex, indexPath: String, queriesPath: String?, from: FileFormat?, gt: String, assignments: String) throws {
        let reader = try VectorReader(path: queriesPath, from: from)
        guard reader.dim == idx.dim else {
            throw ANNError.badData(source: reader.name, message: "queries have dimension \(reader.dim), the index \(idx.dim)")
        }
        queries = try reader.readAll()
        if idx.metric == .cos {
            queries.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: $0.count / idx.dim, d: idx.dim) }
        }
        truth = try loadTruth(gt, metric: idx.metric, of: "the index \(indexPath)")
        assignment = try Assignment.load(assignments, clusterCount: idx.clusterCount)
        guard assignment.clusterCount == idx.clusterCount else {
            throw ANNError.badData(source: assignments, message: "assignment is for \(assignment.clusterCount) clusters, the index has \(idx.clusterCount)")
        }
    }
}
