import ANNKit
import Testing

@Suite struct NearestCentroidCheckTests {
    /// Two centroids far apart and vectors beside one or the other.
    static let centroids: [Float] = [0, 0, 10, 10]
    static let vectors: [Float] = [0.5, 0, 9, 10, 0, 1, 10, 9.5]
    static let nearest: [UInt32] = [0, 1, 0, 1]

    func check(_ lists: [[UInt32]], metric: Metric = .l2) -> NearestCentroidCheck {
        var c = NearestCentroidCheck(storedCentroids: Self.centroids, dim: 2, metric: metric)
        Self.vectors.withUnsafeBytes { raw in
            for (i, list) in lists.enumerated() { c.add(raw: raw.baseAddress! + 8 * i, type: .float32, clusters: list[...]) }
        }
        return c
    }

    @Test func agreesWhenEachVectorHoldsItsNearestCentroid() throws {
        let c = check(Self.nearest.map { [$0] })
        #expect(c.sampled == 4)
        #expect(try c.agreeing() == 4)
        try c.verify(source: "a")
        // A copy in another cluster (replication, duplication) still holds the nearest one.
        #expect(try check(Self.nearest.map { [1 - $0, $0] }).agreeing() == 4)
    }

    @Test func refusesAnAssignmentMadeForOtherCentroids() throws {
        let c = check(Self.nearest.map { [1 - $0] })
        #expect(try c.agreeing() == 0)
        #expect(annError { try c.verify(source: "a.ivecs") }?.exitCode == 65)
        // Half right is the least that passes.
        #expect(throws: Never.self) { try check([[0], [1], [1], [0]]).verify(source: "a") }
        #expect(annError { try check([[0], [0], [1], [0]]).verify(source: "a") }?.exitCode == 65)
    }

    @Test func stopsSamplingWhenFull() {
        var c = NearestCentroidCheck(storedCentroids: Self.centroids, dim: 2, metric: .l2)
        let v: [Float] = [0, 0]
        v.withUnsafeBytes { raw in
            for _ in 0..<(NearestCentroidCheck.sampleSize + 10) { c.add(raw: raw.baseAddress!, type: .float32, clusters: [0]) }
        }
        #expect(c.isFull)
        #expect(c.sampled == NearestCentroidCheck.sampleSize)
    }
}
