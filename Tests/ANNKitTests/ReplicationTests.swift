import ANNKit
import Glibc
import Testing

/// SPANN's replication rule: the (1+ε) closure on distances, the RNG skip, the cap of R
/// clusters, the home cluster first, and the 1 − cosine distances of ip and cos.
@Suite struct ReplicationTests {
    /// Clusters of one vector, through the whole search.
    func assign(_ x: [Float], centroids: [Float], dim: Int, metric: Metric = .l2, replicas: Int = 8, epsilon: Float = 0.1) -> [UInt32] {
        let r = Replication(centroids: centroids, dim: dim, metric: metric, replicas: replicas, epsilon: epsilon)
        // A throw reads as no clusters, which every expectation below refuses.
        return x.withUnsafeBufferPointer { (try? r.assign($0.baseAddress!, count: 1))?[0] ?? [] }
    }

    /// ε bounds the Euclidean distance, not the squared one: 5.4 / 5 = 1.08 is within 1.1,
    /// though 5.4² / 5² = 1.17 is not.
    @Test func closureIsOnTheDistance() {
        let c: [Float] = [0, 0, 10.4, 0, -20, 0]
        #expect(assign([5, 0], centroids: c, dim: 2) == [0, 1])
        #expect(assign([5, 0], centroids: c, dim: 2, epsilon: 0.079) == [0])
        #expect(assign([5, 0], centroids: c, dim: 2, epsilon: 0.08) == [0, 1])
        // Mirrored: the home is the nearer one, whatever its number.
        #expect(assign([5.4, 0], centroids: c, dim: 2) == [1, 0])
        // ε = 0 keeps exact ties only.
        #expect(assign([5.2, 0], centroids: c, dim: 2, epsilon: 0) == [0, 1])
        #expect(assign([5.1, 0], centroids: c, dim: 2, epsilon: 0) == [0])
    }

    /// Distances of the rules: Euclidean for l2, 1 − cosine for ip and cos.
    @Test func distances() {
        #expect(Replication.distance(.l2, internal: 25, squaredNorm: 7) == 5)
        #expect(Replication.distance(.l2, internal: -1e-6, squaredNorm: 7) == 0)
        // x = (3, 4), c = (0.6, 0.8): x·c = 5 = ‖x‖, cosine 1.
        #expect(Replication.distance(.ip, internal: -5, squaredNorm: 25) == 0)
        #expect(abs(Replication.distance(.ip, internal: -2.5, squaredNorm: 25) - 0.5) < 1e-6)
        #expect(Replication.distance(.cos, internal: 0.25, squaredNorm: 1) == 1.25)
        // A vector of zeros is at distance 1 from every centroid.
        #expect(Replication.distance(.ip, internal: 0, squaredNorm: 0) == 1)
        let r = Replication(centroids: [3, 4, 0, 2], dim: 2, metric: .ip)
        // Centroids are scaled to unit length: (0.6, 0.8) and (0, 1).
        #expect(abs(r.centroidDistance(0, 1) - 0.2) < 1e-6)
        #expect(abs(r.centroidDistance(1, 1)) < 1e-6)
        let l = Replication(centroids: [3, 4, 0, 0], dim: 2, metric: .l2)
        #expect(l.centroidDistance(0, 1) == 5 && l.centroidDistance(1, 0) == 5)
    }

    /// A candidate is skipped when a kept centroid is nearer to it than the vector is; a
    /// skipped one blocks nothing.
    @Test func rngRuleSkipsCandidatesBehindKeptClusters() {
        // On a line: c0 = 0, c1 = 1, c2 = 5.5. c1 is 1 from the home, nearer than the vector
        // (5.2): skipped. c2 is 4.5 from c1, but c1 was not kept, and 5.5 from the home.
        let line = Replication(centroids: [0, 1, 5.5], dim: 1, metric: .l2)
        #expect(line.select(clusters: [0, 1, 2], distances: [5, 5.2, 5.3]) == [0, 2])
        // c0 = 0, c1 = 6, c2 = 7: c1 is kept (6 from the home); c2 lies 1 from c1: skipped.
        let kept = Replication(centroids: [0, 6, 7], dim: 1, metric: .l2)
        #expect(kept.select(clusters: [0, 1, 2], distances: [5, 5.2, 5.4]) == [0, 1])
        // Equal distances do not skip: the rule needs the centroid to be strictly nearer.
        let edge = Replication(centroids: [0, 5.25], dim: 1, metric: .l2)
        #expect(edge.select(clusters: [0, 1], distances: [5, 5.25]) == [0, 1])
        #expect(edge.select(clusters: [0, 1], distances: [5, 5.3]) == [0])
        // A vector on its home centroid is copied only to clusters as near, whatever ε.
        let wide = Replication(centroids: [0, 6, 7], dim: 1, metric: .l2, epsilon: .infinity)
        #expect(wide.select(clusters: [0, 1], distances: [0, 0]) == [0, 1])
        #expect(wide.select(clusters: [0, 1], distances: [0, 0.5]) == [0])
        #expect(wide.select(clusters: [0, 1], distances: [5, 5.5]) == [0, 1])
        // Past the closure, nothing more is looked at.
        #expect(kept.select(clusters: [0, 1, 2], distances: [5, 5.6, 5.7]) == [0])

        // In the plane: x = (0, 5) is 5 from c0 = (0, 0) and 5.10 from c1 = (1, 0), but c1 is
        // 1 from c0: SPANN stores no copy there.
        #expect(assign([0, 5], centroids: [0, 0, 1, 0], dim: 2) == [0])
        // x = (4.9, 0) between c0 = (0, 0) and c1 = (10, 0): a copy on the other side.
        #expect(assign([4.9, 0], centroids: [0, 0, 10, 0], dim: 2) == [0, 1])
    }

    /// At most R clusters, home first, then in increasing distance (equal distances by the
    /// smaller cluster).
    @Test func capOfRClustersHomeFirst() {
        // 16 centroids at 10·eᵢ, all 10 from the origin and 14.1 from each other.
        let d = 16
        var c = [Float](repeating: 0, count: d * d)
        for i in 0..<d { c[i * d + i] = 10 }
        let origin = [Float](repeating: 0, count: d)
        #expect(assign(origin, centroids: c, dim: d, replicas: 3) == [0, 1, 2])
        #expect(assign(origin, centroids: c, dim: d, replicas: 16) == (0..<16).map(UInt32.init))
        #expect(assign(origin, centroids: c, dim: d, replicas: 40) == (0..<16).map(UInt32.init))
        #expect(assign(origin, centroids: c, dim: d, replicas: 1) == [0])
        // Nearer to c5, then c9: that order (values exact in binary, so the rest tie exactly).
        var x = origin
        x[5] = 0.5
        x[9] = 0.25
        #expect(assign(x, centroids: c, dim: d, replicas: 3) == [5, 9, 0])
    }

    /// ip and cos compare directions: 1 − cosine, whatever the length of the vector.
    @Test(arguments: [Metric.ip, .cos])
    func similarityMetricsUseOneMinusCosine(_ metric: Metric) {
        let deg = Float.pi / 180
        // c0 at 0°, c1 at 30°, c2 at 90° (c2 given long: scaled to unit length).
        let c: [Float] = [1, 0, Glibc.cos(30 * deg), Glibc.sin(30 * deg), 0, 3]
        func at(_ a: Float, length: Float = 1) -> [Float] { [length * Glibc.cos(a * deg), length * Glibc.sin(a * deg)] }
        // At 14°: 1 − cos 14° = 0.0297 against 1 − cos 16° = 0.0387, a ratio of 1.30.
        #expect(assign(at(14), centroids: c, dim: 2, metric: metric) == [0])
        #expect(assign(at(14), centroids: c, dim: 2, metric: metric, epsilon: 0.35) == [0, 1])
        #expect(assign(at(14), centroids: c, dim: 2, metric: metric, epsilon: 0.25) == [0])
        // With any closure, c2 (1 − cos 76° = 0.76 from the vector) stays out: c1 is nearer
        // to it (1 − cos 60° = 0.5), though the home is not (1 − cos 90° = 1).
        #expect(assign(at(14), centroids: c, dim: 2, metric: metric, epsilon: 100) == [0, 1])
        if metric == .ip {
            // The length of the vector does not matter (cos callers pass unit vectors).
            #expect(assign(at(14, length: 40), centroids: c, dim: 2, metric: metric, epsilon: 0.35) == [0, 1])
            #expect(assign(at(14, length: 0.01), centroids: c, dim: 2, metric: metric, epsilon: 0.25) == [0])
        }
    }

    /// On random data against a brute force in double precision: the home is the nearest
    /// centroid, every kept cluster obeys both rules, and every dropped one among the R
    /// nearest breaks one. The table of centroid distances (K ≤ 2048) and its absence give
    /// the same rule.
    @Test(arguments: [(Metric.l2, 40), (.ip, 40), (.cos, 40), (.l2, Replication.tableLimit + 1)])
    func invariantsOnRandomData(_ metric: Metric, _ k: Int) throws {
        let d = 6, n = 600, replicas = 4
        let epsilon: Float = 0.3
        var rng = RandomGenerator(seed: 9)
        let centroids = (0..<(k * d)).map { _ in rng.gaussian() }
        var x = (0..<(n * d)).map { _ in rng.gaussian() * 1.5 }
        if metric == .cos { x.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: n, d: d) } }
        let rep = Replication(centroids: centroids, dim: d, metric: metric, replicas: replicas, epsilon: epsilon)
        let lists = try x.withUnsafeBufferPointer { try rep.assign($0.baseAddress!, count: n) }
        let c = rep.centroids
        func dot(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
        func row(_ v: [Float], _ i: Int) -> ArraySlice<Float> { v[(i * d)..<((i + 1) * d)] }
        func between(_ i: Int, _ j: Int) -> Double {
            metric == .l2 ? dot(row(c, i), row(c, i)) - 2 * dot(row(c, i), row(c, j)) + dot(row(c, j), row(c, j)) : 1 - dot(row(c, i), row(c, j))
        }
        let tol = 1e-4
        var replicated = 0, capped = 0
        for v in 0..<n {
            let xv = row(x, v)
            let dist: [Double] = (0..<k).map { j in
                metric == .l2 ? max(0, dot(xv, xv) - 2 * dot(xv, row(c, j)) + dot(row(c, j), row(c, j))).squareRoot()
                              : 1 - dot(xv, row(c, j)) / dot(xv, xv).squareRoot()
            }
            let order = (0..<k).sorted { dist[$0] < dist[$1] }
            let list = lists[v].map(Int.init)
            #expect(!list.isEmpty && list.count <= replicas && Set(list).count == list.count, "vector \(v): \(list)")
            #expect(dist[list[0]] <= dist[order[0]] + tol, "vector \(v): home")
            for (a, b) in zip(list, list.dropFirst()) { #expect(dist[a] <= dist[b] + tol, "vector \(v): order") }
            let d1 = dist[list[0]]
            let limit = (1 + Double(epsilon)) * d1
            func centroidGap(_ i: Int, _ j: Int) -> Double { metric == .l2 ? max(0, between(i, j)).squareRoot() : between(i, j) }
            for (p, j) in list.enumerated().dropFirst() {
                #expect(dist[j] <= limit + tol, "vector \(v): cluster \(j) outside the closure")
                for i in list.prefix(p) { #expect(centroidGap(i, j) >= dist[j] - tol, "vector \(v): cluster \(j) behind \(i)") }
            }
            for j in order.prefix(replicas) where !list.contains(j) && list.count < replicas {
                let outside = dist[j] > limit - tol
                let behind = list.contains { dist[$0] <= dist[j] + tol && centroidGap($0, j) < dist[j] + tol }
                #expect(outside || behind, "vector \(v): cluster \(j) dropped for no reason")
            }
            if list.count > 1 { replicated += 1 }
            if list.count == replicas { capped += 1 }
        }
        // The data exercise both rules.
        #expect(replicated > n / 10, "\(replicated) replicated")
        #expect(replicated < n, "\(replicated) replicated")
        #expect(capped > 0, "\(capped) at the cap")
    }

    /// The streaming form reads a file in blocks and hands out lists in order.
    @Test func streamsAReaderInBlocks() throws {
        let sift = try SampleData.siftBase()
        let n = 2500, d = sift.dim
        var centroids = [Float]()
        for c in 0..<12 { centroids += sift.row(c * 101) }
        let data = Array(sift.values.prefix(n * d))
        let rep = Replication(centroids: centroids, dim: d, metric: .l2, epsilon: 0.2)
        let whole = try data.withUnsafeBufferPointer { try rep.assign($0.baseAddress!, count: n) }
        try withTemporaryDirectory { dir in
            try writeNativeVectors(data, dim: d, to: "\(dir)/x.annv")
            var streamed = [[UInt32]]()
            var firsts = [Int]()
            try rep.assign(try VectorReader(path: "\(dir)/x.annv"), block: 1000, emit: { first, lists in
                firsts.append(first)
                streamed += lists
            })
            #expect(firsts == [0, 1000, 2000])
            #expect(streamed == whole)
            try writeNativeVectors(Array(data.prefix(64 * 4)), dim: 64, to: "\(dir)/y.annv")
            let e = annError { try rep.assign(try VectorReader(path: "\(dir)/y.annv"), emit: { _, _ in }) }
            #expect(e?.exitCode == 65)
        }
        // Replicas on real data, and the home is the nearest.
        #expect(whole.contains { $0.count > 1 })
        var labels = [UInt32](repeating: 0, count: n), dists = [Float](repeating: 0, count: n)
        try data.withUnsafeBufferPointer { try KMeans.assign(data: $0.baseAddress!, n: n, d: d, centroids: centroids, k: 12, metric: .l2, labels: &labels, distances: &dists) }
        #expect(whole.map { $0[0] } == labels)
    }
}
