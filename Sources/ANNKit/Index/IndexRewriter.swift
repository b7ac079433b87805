/// The next index of a duplication round, written from the current index instead of from the
/// base: a cluster whose membership does not change keeps its frame byte for byte (read and
/// checked, not recompressed); a cluster that gains or loses vectors is rebuilt from vectors
/// the index already stores, at the index's own zstd level. The result is the index ann-pack
/// makes from the base and the new assignment, byte for byte, without a pass over the base.
public enum IndexRewriter {
    /// Writes to `output` the index of `next`, a membership of `index`'s vectors (`current` is
    /// the membership `index` holds, `Assignment(index:)`). Every vector of the index must stay
    /// in at least one cluster. `progress` receives the clusters written so far.
    public static func write(from index: PackedIndex, current: Assignment, next: Assignment, to output: OutputFile,
                             progress: (Int) -> Void = { _ in }) throws -> IndexWriter.Report {
        let k = index.clusterCount, n = index.vectorCount, d = index.dim
        precondition(current.clusterCount == k && next.clusterCount == k)
        try checkCovers(next, vectors: n, source: output.sink.name)
        let now = Members(current), then = Members(next)
        let rb = d * index.elementType.size

        // Vectors a cluster gains, with the stored bytes of each, read from a cluster that holds it.
        var gained = [UInt32]()
        for c in 0..<k where now.list(c) != then.list(c) { gained.append(contentsOf: then.list(c).filter { !now.contains($0, in: c) }) }
        let wanted = Array(Set(gained)).sorted()
        var stored = [UInt8](repeating: 0, count: wanted.count * rb)
        var home = [Int: [Int]]()
        for (i, v) in wanted.enumerated() { home[Int(current.clusters[current.firstPair(of: v)]), default: []].append(i) }
        let buffers = ClusterBuffers()
        for c in home.keys.sorted() {
            let m = try index.fetch(c, into: buffers)
            let ids = UnsafeBufferPointer(start: buffers.ids, count: m)
            for i in home[c]! {
                guard let row = position(of: wanted[i], in: ids) else { throw damaged(index, c) }
                copyStored(buffers.floats + row * d, d: d, type: index.elementType, into: &stored, at: i * rb)
            }
        }

        let file = try IndexFileWriter(sink: output.sink, dim: d, type: index.elementType, metric: index.metric,
                                       layout: index.layout, level: index.level, centroids: index.centroids, vectors: n)
        try file.appendAll(progress: progress) { c in
            let changed = now.list(c) != then.list(c)
            // A frame copied as it is needs its ids checked, not its vectors decoded.
            let m = try index.fetch(c, into: buffers, vectors: changed)
            let old = UnsafeBufferPointer(start: buffers.ids, count: m)
            guard old.elementsEqual(now.list(c)) else { throw damaged(index, c) }
            guard changed else { return .compressed(Array(buffers.compressed[0..<index.entries[c].size]), vectors: m) }
            var cluster = IndexFileWriter.Cluster(ids: Array(then.list(c)), bytes: [UInt8](repeating: 0, count: then.list(c).count * rb))
            var j = 0
            for (row, v) in then.list(c).enumerated() {
                while j < m && old[j] < v { j += 1 }
                if j < m && old[j] == v {
                    copyStored(buffers.floats + j * d, d: d, type: index.elementType, into: &cluster.bytes, at: row * rb)
                } else {
                    let i = position(of: v, in: wanted)!
                    cluster.bytes.replaceSubrange(row * rb..<(row + 1) * rb, with: stored[i * rb..<(i + 1) * rb])
                }
            }
            return .content(cluster)
        }
        return try file.finish(baseFingerprint: index.baseFingerprint)
    }

    /// Every vector below `vectors` in at least one cluster, no other ids.
    private static func checkCovers(_ a: Assignment, vectors n: Int, source: String) throws {
        var expected: UInt32 = 0
        for v in a.vectors {
            if v == expected { expected += 1 } else if v > expected || Int(v) >= n { break }
        }
        guard Int(expected) == n, a.vectors.last.map({ Int($0) < n }) ?? (n == 0) else {
            throw ANNError.badData(source: source, message: "the new membership leaves vector \(expected) in no cluster or names one the index does not hold")
        }
    }

    private static func damaged(_ index: PackedIndex, _ c: Int) -> ANNError {
        .badData(source: index.name, message: "cluster \(c) changed while it was read")
    }

    /// A decoded row back in the form the index stores it (uint8 values are exact in float32).
    static func copyStored(_ row: UnsafePointer<Float>, d: Int, type: ElementType, into bytes: inout [UInt8], at offset: Int) {
        bytes.withUnsafeMutableBytes { b in
            if type == .uint8 {
                for j in 0..<d { b[offset + j] = UInt8(row[j]) }
            } else {
                (b.baseAddress! + offset).copyMemory(from: row, byteCount: d * 4)
            }
        }
    }

    private static func position<C: RandomAccessCollection>(of v: UInt32, in sorted: C) -> Int? where C.Element == UInt32, C.Index == Int {
        var lo = sorted.startIndex, hi = sorted.endIndex
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo < sorted.endIndex && sorted[lo] == v ? lo : nil
    }

    /// An assignment cluster by cluster: each cluster's vectors, ascending.
    private struct Members {
        var starts: [Int]
        var ids: [UInt32]

        init(_ a: Assignment) {
            starts = [Int](repeating: 0, count: a.clusterCount + 1)
            for c in a.clusters { starts[Int(c) + 1] += 1 }
            for c in 0..<a.clusterCount { starts[c + 1] += starts[c] }
            ids = [UInt32](repeating: 0, count: a.pairCount)
            var next = starts
            // Pairs come sorted by vector, so each cluster's list fills in ascending order.
            for p in 0..<a.pairCount {
                let c = Int(a.clusters[p])
                ids[next[c]] = a.vectors[p]
                next[c] += 1
            }
        }

        func list(_ c: Int) -> ArraySlice<UInt32> { ids[starts[c]..<starts[c + 1]] }

        func contains(_ v: UInt32, in c: Int) -> Bool { IndexRewriter.position(of: v, in: list(c)) != nil }
    }
}

extension Assignment {
    /// The first pair of vector `v` (pairs are sorted by vector; `v` must have one).
    func firstPair(of v: UInt32) -> Int {
        var lo = 0, hi = pairCount
        while lo < hi {
            let mid = (lo + hi) / 2
            if vectors[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
