import ANNKit
import Testing

/// The membership a packed index holds (`Assignment(index:)`): the assignment it was packed
/// from, as a set of pairs, in the order an index can know (ascending clusters), read through
/// the same checks as a fetch, and refused where the index cannot be a packing of its base.
@Suite struct IndexMembershipTests {
    static func pairs(_ a: Assignment) -> Set<[UInt32]> { Set(zip(a.vectors, a.clusters).map { [$0, $1] }) }

    /// Sorted by vector, each vector's clusters strictly ascending, K from the index.
    static func expectCanonical(_ a: Assignment, k: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.clusterCount == k, sourceLocation: sourceLocation)
        #expect(a.vectors.count == a.clusters.count, sourceLocation: sourceLocation)
        for i in 1..<a.pairCount {
            let ordered = a.vectors[i - 1] < a.vectors[i] || (a.vectors[i - 1] == a.vectors[i] && a.clusters[i - 1] < a.clusters[i])
            #expect(ordered, "pair \(i): (\(a.vectors[i - 1]), \(a.clusters[i - 1])) before (\(a.vectors[i]), \(a.clusters[i]))",
                    sourceLocation: sourceLocation)
            if !ordered { return }
        }
    }

    /// Every 7th vector also in the next cluster (for the last cluster that is cluster 0, so
    /// some home clusters come after their copy in ascending order), one cluster empty.
    @Test(arguments: [ElementType.float32, .uint8])
    func membershipIsThePackedAssignment(_ type: ElementType) throws {
        let f = try IndexFixture.sift(n: 2000, k: 8, duplicateEvery: 7, emptyClusters: 1, type: type)
        try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/i.anni")
            let packed = f.assignment
            let derived = try Assignment(index: try PackedIndex(path: "\(dir)/i.anni"))
            Self.expectCanonical(derived, k: 9)
            #expect(derived.pairCount == packed.pairCount)
            #expect(Self.pairs(derived) == Self.pairs(packed))
            // The fixture's lists are home first: some of them are not ascending, so the test
            // shows that the order comes from the index, not from the packing.
            #expect(f.clustersOf.contains { $0 != $0.sorted() })
            #expect(derived.clustersByVector() == f.clustersOf.map { $0.sorted() })
        }
    }

    /// SPANN-style replication (what ann-kmeans --replicate writes): up to 8 clusters a vector,
    /// home first, nearest next.
    @Test func replicatedMembershipIsThePackedAssignment() throws {
        let sift = try SampleData.siftBase()
        let n = 3000, k = 16, d = sift.dim
        let base = Array(sift.values[0..<(n * d)])
        var centroids = [Float]()
        for c in 0..<k { centroids += sift.row(c * 101) }
        let r = Replication(centroids: centroids, dim: d, metric: .l2, replicas: 8, epsilon: 0.3)
        let lists = try base.withUnsafeBufferPointer { try r.assign($0.baseAddress!, count: n) }
        let f = IndexFixture(dim: d, base: base, type: .float32, metric: .l2, centroids: centroids, clustersOf: lists)
        #expect(f.assignment.pairCount > n + n / 10, "replication made \(f.assignment.pairCount - n) copies")
        try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/i.anni")
            let derived = try Assignment(index: try PackedIndex(path: "\(dir)/i.anni"))
            Self.expectCanonical(derived, k: k)
            #expect(Self.pairs(derived) == Self.pairs(f.assignment))
        }
    }

    /// The ids-only fetch gives the ids of the full fetch and leaves the vector buffer alone.
    @Test func idsOnlyFetchGivesTheIds() throws {
        let f = try IndexFixture.sift(n: 2000, k: 8, duplicateEvery: 10, emptyClusters: 1)
        try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/i.anni")
            let idx = try PackedIndex(path: "\(dir)/i.anni")
            let b = ClusterBuffers()
            for c in 0..<idx.clusterCount {
                let n = try idx.fetch(c, into: b, vectors: false)
                #expect(n == idx.entries[c].vectors)
                #expect(Array(UnsafeBufferPointer(start: b.ids, count: n)) == f.members[c])
            }
            // A fresh buffer fetched ids-only has grown no room for vectors.
            let fresh = ClusterBuffers()
            let before = fresh.floats
            try idx.fetch(0, into: fresh, vectors: false)
            #expect(fresh.floats == before)
        }
    }

    /// A frame whose bytes changed fails its checksum on the ids-only path too: the membership
    /// is refused naming the cluster, never built from the damaged frame.
    @Test(arguments: [0, 5])
    func damagedFrameIsRefused(_ c: Int) throws {
        let f = try IndexFixture.sift(n: 2000, k: 8, duplicateEvery: 10)
        try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/i.anni")
            let e = try PackedIndex(path: "\(dir)/i.anni").entries[c]
            var bytes = try readBytes("\(dir)/i.anni")
            bytes[e.offset + e.size / 2] ^= 0x10
            try writeBytes(bytes, to: "\(dir)/bad.anni")
            let idx = try PackedIndex(path: "\(dir)/bad.anni")
            expectRefusal(mentioning: "\(dir)/bad.anni: cluster \(c): checksum mismatch") { _ = try Assignment(index: idx) }
        }
    }

    /// A base vector stored in no cluster (the copies of others make up the count, so the index
    /// opens): every vector of a packed base is in some cluster, so the membership is refused.
    @Test func vectorInNoClusterIsRefused() throws {
        var f = try IndexFixture.sift(n: 2000, k: 8, duplicateEvery: 10)
        f.clustersOf[1234] = []
        try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/i.anni")
            let idx = try PackedIndex(path: "\(dir)/i.anni")
            expectRefusal(mentioning: "vector 1234 is in no cluster") { _ = try Assignment(index: idx) }
        }
    }

    /// Training examples from the index's membership are those from the assignment it was
    /// packed from, each key's positives in ascending order.
    @Test func examplesFromTheIndex() throws {
        let p = try RouterProblem.get()
        try withTemporaryDirectory { dir in
            try p.index.pack(to: "\(dir)/i.anni")
            let truth = NeighborList(k: 1, metric: .l2, ids: p.keys, distances: [Float](repeating: 0, count: p.keys.count))
            let ex = try RouterExamples(queries: p.examples.queries, dim: p.index.dim, truth: truth,
                                        assignment: try Assignment(index: try PackedIndex(path: "\(dir)/i.anni")))
            #expect(ex.positives == p.examples.positives.map { $0.sorted() })
        }
    }
}
