/// Training queries with, for each, the clusters that hold its nearest neighbour (several
/// once the neighbour has been duplicated): the positives of a multi-label cross-entropy,
/// −log Σ_{c ∈ P} softmax(z)_c, so any cluster holding the key counts as right.
public struct RouterExamples: Sendable {
    public var dim: Int
    /// `count × dim` raw queries.
    public var queries: [Float]
    /// Per query, the clusters holding its key.
    public var positives: [[UInt32]]
    public var count: Int { positives.count }

    public init(dim: Int, queries: [Float], positives: [[UInt32]]) {
        self.dim = dim
        self.queries = queries
        self.positives = positives
    }

    /// Pairs queries with their keys (the first ground-truth neighbour) and the key's clusters.
    /// `source` names the ground truth in errors.
    public init(queries: [Float], dim: Int, truth: NeighborList, assignment: Assignment, source: String = "ground truth") throws {
        let n = queries.count / dim
        guard truth.count == n else {
            throw ANNError.badData(source: source, message: "\(truth.count) records for \(n) queries")
        }
        let where_ = assignment.clustersByVector()
        var pos = [[UInt32]]()
        pos.reserveCapacity(n)
        for q in 0..<n {
            let key = Int(truth.ids[q * truth.k])
            guard key < where_.count, !where_[key].isEmpty else {
                throw ANNError.badData(source: source, message: "query \(q): neighbour \(key) is in no cluster (the ground truth is not for this base)")
            }
            pos.append(where_[key])
        }
        self.init(dim: dim, queries: queries, positives: pos)
    }

    /// Whether example `i` is held out for validation: every `1/fraction`-th, so that
    /// ann-train and ann-dup agree on the split without sharing state.
    public static func isHeldOut(_ i: Int, validation fraction: Double) -> Bool {
        guard fraction > 0 else { return false }
        let every = max(2, Int((1 / fraction).rounded()))
        return i % every == every - 1
    }

    /// Copies the given examples' queries into `batch` (row-major), adds Gaussian noise of
    /// `noise` × `spread[j]` per dimension, and returns their positives. One seed per batch
    /// and one stream per row, so the noise does not depend on the threads.
    public func gather(_ rows: ArraySlice<Int>, into batch: inout [Float], noise: Float, spread: [Float],
                       rng: inout RandomGenerator) -> [[UInt32]] {
        let d = dim, b = rows.count
        var pos = [[UInt32]]()
        pos.reserveCapacity(b)
        let batchSeed = noise > 0 ? rng.next() : 0
        batch.withUnsafeMutableBufferPointer { bp in
            queries.withUnsafeBufferPointer { qp in
                for (r, i) in rows.enumerated() {
                    (bp.baseAddress! + r * d).update(from: qp.baseAddress! + i * d, count: d)
                    pos.append(positives[i])
                }
            }
            guard noise > 0 else { return }
            let bpp = bp.baseAddress!
            Parallel.forEach(8) { t in
                for r in (b * t / 8)..<(b * (t + 1) / 8) {
                    var g = RandomGenerator(seed: batchSeed ^ (UInt64(r) &* 0x9E37_79B9_7F4A_7C15))
                    var j = 0
                    while j < d {
                        let (z0, z1) = g.gaussianPair()
                        bpp[r * d + j] += noise * spread[j] * z0
                        if j + 1 < d { bpp[r * d + j + 1] += noise * spread[j + 1] * z1 }
                        j += 2
                    }
                }
            }
        }
        return pos
    }

    /// Splits off the held-out examples (deterministically) for validation.
    public func split(validation fraction: Double) -> (train: RouterExamples, validation: RouterExamples) {
        guard fraction > 0 else { return (self, RouterExamples(dim: dim, queries: [], positives: [])) }
        var tq = [Float](), tp = [[UInt32]](), vq = [Float](), vp = [[UInt32]]()
        for i in 0..<count {
            let row = queries[(i * dim)..<((i + 1) * dim)]
            if Self.isHeldOut(i, validation: fraction) { vq += row; vp.append(positives[i]) } else { tq += row; tp.append(positives[i]) }
        }
        return (RouterExamples(dim: dim, queries: tq, positives: tp), RouterExamples(dim: dim, queries: vq, positives: vp))
    }
}

extension Assignment {
    /// For each vector id, the clusters holding it, in the assignment's order (home first where
    /// the assignment records one).
    public func clustersByVector() -> [[UInt32]] {
        let n = Int(vectors.max() ?? 0) + 1
        var out = [[UInt32]](repeating: [], count: n)
        for i in 0..<pairCount { out[Int(vectors[i])].append(clusters[i]) }
        return out
    }
}
