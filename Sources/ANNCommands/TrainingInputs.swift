import ANNKit
import ArgumentParser

/// What ann-train and ann-dup both read for the index they route for: the training queries
/// (normalised for cos, as the index's vectors are), their ground truth, each checked against
/// the index, and the cluster membership, read from the index itself so that it cannot belong
/// to another clustering. The two tools must see the same examples, so they load them through
/// this one path.
struct TrainingInputs {
    var queries: [Float]
    var truth: NeighborList
    var assignment: Assignment

    init(index idx: PackedIndex, indexPath: String, queriesPath: String?, from: FileFormat?, gt: String) throws {
        let reader = try VectorReader(path: queriesPath, from: from)
        guard reader.dim == idx.dim else {
            throw ANNError.badData(source: reader.name, message: "queries have dimension \(reader.dim), the index \(idx.dim)")
        }
        queries = try reader.readAll()
        if idx.metric == .cos {
            queries.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: $0.count / idx.dim, d: idx.dim) }
        }
        truth = try loadTruth(gt, metric: idx.metric, of: "the index \(indexPath)")
        assignment = try Assignment(index: idx)
    }
}

/// The refusal of ann-train's and ann-dup's former --assignments: membership comes from the
/// index, so an assignment of another clustering cannot be combined with it.
func refuseAssignments(_ given: String?) throws {
    if given != nil {
        throw ValidationError("--assignments is no longer taken: cluster membership comes from the index (--index)")
    }
}
