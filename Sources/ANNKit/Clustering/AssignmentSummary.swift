/// What an assignment came to: the size of every cluster, and for a replicated one how many
/// copies were made.
public struct AssignmentSummary: Sendable {
    /// Vectors (copies included) per cluster.
    public private(set) var sizes: [Int]
    /// Vectors assigned.
    public private(set) var vectors = 0
    /// (vector, cluster) pairs written: one per vector, more with replication.
    public private(set) var pairs = 0
    /// Vectors given as many clusters as replication allows (`cap`); 0 for a plain assignment.
    public private(set) var capped = 0
    /// The most clusters a vector may get; 1 without replication.
    public let cap: Int

    /// An empty summary, for lists of up to `cap` clusters a vector.
    init(clusterCount: Int, cap: Int) {
        sizes = [Int](repeating: 0, count: clusterCount)
        self.cap = cap
    }

    /// The summary of a plain assignment, one cluster a vector.
    init(sizes: [Int]) {
        self.sizes = sizes
        vectors = sizes.reduce(0, +)
        pairs = vectors
        cap = 1
    }

    /// Writes the lists of the vectors from `first` on (home cluster first) and counts them.
    mutating func write(_ lists: [[UInt32]], first: Int, to w: AssignmentWriter) throws {
        for (i, list) in lists.enumerated() {
            for c in list {
                try w.append(vector: first + i, cluster: Int(c))
                sizes[Int(c)] += 1
            }
            pairs += list.count
            if list.count == cap { capped += 1 }
        }
        vectors += lists.count
    }
}
