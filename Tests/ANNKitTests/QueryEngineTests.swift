import ANNKit
import Testing

/// Searching a packed index: with every cluster fetched it is the exact search; with fewer,
/// the figures of each query are those of the clusters it chose.
@Suite struct QueryEngineTests {
    static let queryCount = 60

    static func queries() throws -> [Float] { Array(try SampleData.siftQueries().values.prefix(queryCount * 128)) }

    /// Packs `f` and runs `body` on the opened index.
    func withIndex<T>(_ f: IndexFixture, _ body: (PackedIndex) throws -> T) throws -> T {
        try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/i.anni")
            return try body(try PackedIndex(path: "\(dir)/i.anni"))
        }
    }

    func engine(_ idx: PackedIndex, threads: Int = 2) -> QueryEngine {
        QueryEngine(index: idx, router: CentroidRouter(centroids: idx.centroids, dim: idx.dim, metric: idx.metric), threads: threads)
    }

    /// Every cluster fetched: the exact neighbours, ids and distances, as GroundTruth finds them.
    @Test(arguments: [Metric.l2, .ip, .cos])
    func allClustersIsTheExactSearch(_ metric: Metric) throws {
        let f = try IndexFixture.sift(n: 3000, k: 8, metric: metric)
        let q = try Self.queries()
        let exact = try exactNeighbours(queries: q, base: f.base, dim: 128, k: 10, metric: metric)
        try withIndex(f) { idx in
            let (list, stats) = try engine(idx).search(queries: q, k: 10, parameters: SearchParameters(probe: .nprobe(8)))
            #expect(list.metric == metric && list.k == 10 && list.count == Self.queryCount)
            #expect(list.ids == exact.ids)
            #expect(list.distances == exact.distances)
            #expect(stats.allSatisfy { $0.clusters == 8 && $0.vectors == 3000 })
        }
    }

    /// A vector stored in two clusters is one answer, however many copies are fetched.
    @Test func duplicatesAreReturnedOnce() throws {
        let f = try IndexFixture.sift(n: 3000, k: 8, duplicateEvery: 2)
        let q = try Self.queries()
        let exact = try exactNeighbours(queries: q, base: f.base, dim: 128, k: 20, metric: .l2)
        try withIndex(f) { idx in
            #expect(idx.vectorCount == 3000)
            let (list, stats) = try engine(idx).search(queries: q, k: 20, parameters: SearchParameters(probe: .nprobe(8)))
            for i in 0..<list.count { #expect(Set(list.row(i)).count == 20, "query \(i)") }
            #expect(list.ids == exact.ids)
            #expect(stats.allSatisfy { $0.vectors == 4500 })
        }
    }

    /// What each query fetched is what the router and the selection chose for it alone.
    @Test(arguments: [ProbeSelection.nprobe(1), .nprobe(3), .budget(1), .budget(900)])
    func statsAreThoseOfTheChosenClusters(_ selection: ProbeSelection) throws {
        let f = try IndexFixture.sift(n: 3000, k: 8, duplicateEvery: 5)
        let q = try Self.queries()
        try withIndex(f) { idx in
            let router = CentroidRouter(centroids: idx.centroids, dim: 128, metric: .l2)
            var scores = [Float](repeating: 0, count: Self.queryCount * 8)
            q.withUnsafeBufferPointer { qp in
                scores.withUnsafeMutableBufferPointer { router.score(queries: qp.baseAddress!, n: Self.queryCount, dim: 128, into: $0.baseAddress!) }
            }
            let sizes = idx.entries.map(\.vectors)
            let (list, stats) = try engine(idx).search(queries: q, k: 5, parameters: SearchParameters(probe: selection))
            let members = f.members
            for i in 0..<Self.queryCount {
                let chosen = scores.withUnsafeBufferPointer { selection.choose(scores: $0.baseAddress! + i * 8, sizes: sizes) }
                #expect(stats[i].clusters == chosen.count, "query \(i)")
                #expect(stats[i].vectors == chosen.reduce(0) { $0 + sizes[$1] }, "query \(i)")
                #expect(stats[i].bytes == chosen.reduce(0) { $0 + idx.entries[$1].size }, "query \(i)")
                // Every answer comes from a chosen cluster, and is the best there.
                let fetched = Set(chosen.flatMap { members[$0] })
                let ids = Array(list.row(i))
                #expect(ids.allSatisfy { fetched.contains($0) }, "query \(i)")
                let qv = q[(i * 128)..<((i + 1) * 128)]
                var candidates: [(distance: Float, id: UInt32)] = []
                for id in fetched { candidates.append((Float(squaredDistance(qv, f.row(Int(id)))), id)) }
                candidates.sort { a, b in a.distance < b.distance || (a.distance == b.distance && a.id < b.id) }
                let best = candidates.prefix(5)
                #expect(ids == best.map(\.id), "query \(i)")
                #expect(Array(list.rowDistances(i)) == best.map(\.distance), "query \(i)")
                if case .budget(let v) = selection {
                    #expect(stats[i].clusters >= 1)
                    #expect(stats[i].vectors >= v || stats[i].clusters == 8)
                }
            }
        }
    }

    /// With pruning, a query fetches what the selection chose less the clusters whose
    /// centroid is beyond (1 + E) times the nearest one's distance; a wide E prunes nothing.
    @Test(arguments: [Metric.l2, .ip])
    func pruningFetchesThePrunedChoice(_ metric: Metric) throws {
        let f = try IndexFixture.sift(n: 3000, k: 8, metric: metric, duplicateEvery: 4)
        let q = try Self.queries()
        try withIndex(f) { idx in
            let (plain, plainStats) = try engine(idx).search(queries: q, k: 5, parameters: SearchParameters(probe: .nprobe(4)))
            let wide = SearchParameters(probe: .nprobe(4), prune: 1e9)
            let (same, sameStats) = try engine(idx).search(queries: q, k: 5, parameters: wide)
            #expect(same.ids == plain.ids && sameStats.map(\.vectors) == plainStats.map(\.vectors))

            let pruning = SearchParameters(probe: .nprobe(4), prune: metric == .l2 ? 0.05 : 0.5)
            let (list, stats) = try engine(idx).search(queries: q, k: 5, parameters: pruning)
            let sizes = idx.entries.map(\.vectors)
            let members = f.members
            var pruned = 0
            for i in 0..<Self.queryCount {
                let qv = Array(q[(i * 128)..<((i + 1) * 128)])
                let qn = qv.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                // Distances of the rule, in double precision; the four nearest centroids.
                let dist: [Double] = (0..<8).map { c in
                    let cv = f.centroids[(c * 128)..<((c + 1) * 128)]
                    return metric == .l2 ? Double(squaredDistance(qv[...], cv)).squareRoot()
                                         : 1 - zip(qv, cv).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } / qn
                }
                let chosen = (0..<8).sorted { dist[$0] < dist[$1] || (dist[$0] == dist[$1] && $0 < $1) }.prefix(4)
                let limit = (1 + Double(pruning.prune!)) * dist[chosen.first!]
                let kept = chosen.filter { dist[$0] <= limit }
                #expect(stats[i].clusters == kept.count, "query \(i)")
                #expect(stats[i].vectors == kept.reduce(0) { $0 + sizes[$1] }, "query \(i)")
                let fetched = Set(kept.flatMap { members[$0] })
                #expect(list.row(i).allSatisfy { fetched.contains($0) }, "query \(i)")
                pruned += 4 - kept.count
            }
            #expect(pruned > 0 && pruned < 3 * Self.queryCount, "\(pruned) clusters pruned")
        }
    }

    /// The result depends only on what was fetched: not on threads, nor on batching.
    @Test func resultDoesNotDependOnThreadsOrBatches() throws {
        let f = try IndexFixture.sift(n: 3000, k: 8, duplicateEvery: 3)
        let q = try Self.queries()
        try withIndex(f) { idx in
            let (one, _) = try engine(idx, threads: 1).search(queries: q, k: 10, parameters: SearchParameters(probe: .nprobe(3)))
            let (four, _) = try engine(idx, threads: 4).search(queries: q, k: 10, parameters: SearchParameters(probe: .nprobe(3)))
            #expect(one.ids == four.ids && one.distances == four.distances)
            let e = engine(idx)
            let half = Self.queryCount / 2 * 128
            let (a, _) = try e.search(queries: Array(q[..<half]), k: 10, parameters: SearchParameters(probe: .nprobe(3)))
            let (b, _) = try e.search(queries: Array(q[half...]), k: 10, parameters: SearchParameters(probe: .nprobe(3)))
            #expect(a.ids + b.ids == one.ids && a.distances + b.distances == one.distances)
            #expect(e.totals.queries == Self.queryCount)
            #expect(e.totals.clustersRead >= 3 && e.totals.clustersRead <= 16)
        }
    }

    /// A query that fetched fewer vectors than k has its row padded.
    @Test func shortRowsArePadded() throws {
        let f = try IndexFixture.sift(n: 3000, k: 8, emptyClusters: 1)
        try withIndex(f) { idx in
            // A query at the far centroid of the empty cluster chooses it first, and fetches nothing.
            let far = [Float](repeating: 1000, count: 128)
            let (list, stats) = try engine(idx).search(queries: far, k: 3, parameters: SearchParameters(probe: .nprobe(1)))
            #expect(stats[0].clusters == 1 && stats[0].vectors == 0)
            #expect(Array(list.row(0)) == [NeighborList.noID, NeighborList.noID, NeighborList.noID])
            #expect(Array(list.rowDistances(0)) == [.infinity, .infinity, .infinity])
            // The budget reaches past the empty cluster to one that holds vectors.
            let (b, bs) = try engine(idx).search(queries: far, k: 3, parameters: SearchParameters(probe: .budget(1)))
            #expect(bs[0].clusters == 2 && bs[0].vectors > 0)
            #expect(!b.row(0).contains(NeighborList.noID))
        }
    }

    /// A damaged cluster stops the search with an error naming it, never a silent result.
    @Test func damagedClusterStopsTheSearch() throws {
        let f = try IndexFixture.sift(n: 3000, k: 8)
        let q = try Self.queries()
        try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/i.anni")
            var bytes = try readBytes("\(dir)/i.anni")
            let idx0 = try PackedIndex(path: "\(dir)/i.anni")
            let e4 = idx0.entries[4]
            bytes[e4.offset + e4.size / 3] ^= 0x01
            try writeBytes(bytes, to: "\(dir)/bad.anni")
            let idx = try PackedIndex(path: "\(dir)/bad.anni")
            let e = annError { _ = try engine(idx).search(queries: q, k: 10, parameters: SearchParameters(probe: .nprobe(8))) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("cluster 4") == true, "\(String(describing: e))")
        }
    }

    /// Centroid routing ranks clusters by the distance to their centroids: l2 scores are that
    /// distance less the query's squared norm.
    @Test func centroidRouterScores() throws {
        let f = try IndexFixture.sift(n: 500, k: 8)
        let q = try Self.queries()
        let router = CentroidRouter(centroids: f.centroids, dim: 128, metric: .l2)
        #expect(router.clusterCount == 8)
        var scores = [Float](repeating: 0, count: Self.queryCount * 8)
        q.withUnsafeBufferPointer { qp in
            scores.withUnsafeMutableBufferPointer { router.score(queries: qp.baseAddress!, n: Self.queryCount, dim: 128, into: $0.baseAddress!) }
        }
        for i in 0..<Self.queryCount {
            let qv = q[(i * 128)..<((i + 1) * 128)]
            let qn = qv.reduce(0.0) { $0 + Double($1) * Double($1) }
            for c in 0..<8 {
                let exact = squaredDistance(qv, f.centroids[(c * 128)..<((c + 1) * 128)])
                #expect(abs(Double(scores[i * 8 + c]) + qn - exact) <= 1e-5 * (qn + exact), "query \(i) cluster \(c)")
            }
        }
        let ip = CentroidRouter(centroids: f.centroids, dim: 128, metric: .ip)
        var s = [Float](repeating: 0, count: 8)
        q.withUnsafeBufferPointer { qp in s.withUnsafeMutableBufferPointer { ip.score(queries: qp.baseAddress!, n: 1, dim: 128, into: $0.baseAddress!) } }
        for c in 0..<8 {
            let dot = zip(q.prefix(128), f.centroids[(c * 128)..<((c + 1) * 128)]).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(Double(s[c]) + dot) <= 1e-5 * abs(dot))
        }
    }
}

