import ANNKit
import Testing

/// Curves compared at equal recall (ann-eval compare): the fetch read off each curve as sweep's
/// summary reads it, its bound where the curve does not bracket the level, and the ratios.
@Suite struct CurveComparisonTests {
    static func curve(_ label: String, _ points: [(Double, Double)]) -> RecallCurve {
        RecallCurve(label: label, points: points.enumerated().map { i, p in
            .init(setting: "budget=\(i)", recall1: p.0, recall10: nil, vectors: p.1, bytes: p.1 * 100, clusters: 1, queriesPerSecond: 1)
        })
    }

    static let centroid = curve("centroid routing", [(0.5, 100), (0.8, 200), (0.95, 400), (0.99, 800)])
    static let router = curve("router", [(0.85, 90), (0.9, 120), (0.93, 150)])

    @Test func readingsAgreeWithTheSweepSummary() {
        for target in [0.5, 0.6, 0.8, 0.9, 0.95, 0.99] {
            let r = Self.centroid.reading(atRecall: target)
            let v = Self.centroid.vectors(atRecall: target)
            #expect(r.vectors == v?.vectors && r.bound == .exact, "\(target)")
            #expect(abs(r.bytes - r.vectors * 100) < 1e-6)
        }
        // Two thirds of the way from 0.8 to 0.95.
        #expect(abs(Self.centroid.reading(atRecall: 0.9).vectors - (200 + 200 * 2 / 3)) < 1e-9)
    }

    @Test func readingsOutsideTheCurveAreBounds() {
        // Already past 0.8 at the first setting: at most its fetch.
        #expect(Self.router.reading(atRecall: 0.8) == .init(vectors: 90, bytes: 9000, bound: .atMost))
        // Never reaching 0.95: more than the last setting's fetch.
        #expect(Self.router.reading(atRecall: 0.95) == .init(vectors: 150, bytes: 15000, bound: .atLeast))
        #expect(Self.router.reading(atRecall: 0.9) == .init(vectors: 120, bytes: 12000, bound: .exact))
    }

    @Test func ratiosToTheFirstCurveByDefault() throws {
        let c = CurveComparison(curves: [("c.tsv", Self.centroid), ("r.tsv", Self.router)], target: 0.9, levels: [0.95, 0.8, 0.9])
        #expect(c.levels == [0.8, 0.9, 0.95])
        #expect(c.baselines.map(\.source) == ["c.tsv"])
        let base = c.baselines[0], router = c.curves[1]
        #expect(c.ratio(c.curves[0], to: base, at: 1) == .init(value: 1, bound: .exact))
        let r = try #require(c.ratio(router, to: base, at: 1))
        #expect(abs(r.value - 120 / (200 + 200 * 2 / 3)) < 1e-12 && r.bound == .exact)
        // At most 90 against exactly 200; more than 150 against exactly 400.
        #expect(c.ratio(router, to: base, at: 0)?.bound == .atMost)
        #expect(c.ratio(router, to: base, at: 2)?.bound == .atLeast)
        #expect(c.fewest?.source == "r.tsv")
    }

    @Test func boundsOnBothSidesLeaveTheRatioUnknown() {
        let low = Self.curve("low", [(0.95, 50), (0.99, 60)])
        let c = CurveComparison(curves: [("r.tsv", Self.router), ("low.tsv", low)], baselines: [("low.tsv", low)], target: 0.9)
        // The router reads exactly 120; the baseline at most 50: at least 120/50.
        #expect(c.ratio(c.curves[0], to: c.baselines[0], at: 0) == .init(value: 120.0 / 50, bound: .atLeast))
        // At most 30 against at most 50: unknown; more than 20 against at most 50: more than 0.4.
        let lower = Self.curve("lower", [(0.96, 30)]), never = Self.curve("never", [(0.1, 10), (0.2, 20)])
        let d = CurveComparison(curves: [("lower.tsv", lower), ("n.tsv", never)], baselines: [("low.tsv", low)], target: 0.9)
        #expect(d.ratio(d.curves[0], to: d.baselines[0], at: 0) == nil)
        #expect(d.ratio(d.curves[1], to: d.baselines[0], at: 0) == .init(value: 0.4, bound: .atLeast))
        #expect(d.fewest?.source == "lower.tsv")
        #expect(d.markdown().contains("| lower | ≤ 30.0 | ≤ 2.9 | – |"))
        let none = CurveComparison(curves: [("n.tsv", never)], target: 0.9)
        #expect(none.fewest == nil)
        #expect(none.markdown().contains("No curve reaches recall@1 0.90."))
    }

    @Test func markdownTable() {
        let c = CurveComparison(curves: [("c.tsv", Self.centroid), ("r.tsv", Self.router)], target: 0.9, levels: [0.8])
        let lines = c.markdown().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "| curve | vectors @ 0.80 | vectors @ 0.90 | KB @ 0.90 | vs centroid routing |")
        #expect(lines[1] == "|---|---:|---:|---:|---:|")
        #expect(lines[2] == "| centroid routing | 200.0 | 333.3 | 32.6 | 1.00× |")
        #expect(lines[3] == "| router | ≤ 90.0 | 120.0 | 11.7 | 0.36× |")
        #expect(lines.contains { $0.hasPrefix("≤: ") })
        #expect(lines.contains("Fewest vectors per query at recall@1 0.90: router, 120.0 (0.36× centroid routing)."))
    }

    @Test func tsvRows() {
        let c = CurveComparison(curves: [("c.tsv", Self.centroid), ("r.tsv", Self.router)], baselines: [("c.tsv", Self.centroid)],
                                target: 0.9, levels: [0.95])
        let lines = c.tsv().split(separator: "\n").map(String.init)
        #expect(lines[0] == "# ratio1: centroid routing (c.tsv)")
        #expect(lines[1] == "file\tlabel\trecall1\tbound\tvectors\tbytes\tratio1")
        #expect(lines[2] == "c.tsv\tcentroid routing\t0.90\t=\t333.3\t33333\t1.0000")
        #expect(lines[5] == "r.tsv\trouter\t0.95\t>\t150.0\t15000\t0.3750")
        #expect(lines.count == 6)
    }

    @Test func levelsKeepTheDigitsTheyNeed() {
        #expect(CurveComparison.level(0.9) == "0.90")
        #expect(CurveComparison.level(0.95) == "0.95")
        #expect(CurveComparison.level(0.925) == "0.925")
        #expect(CurveComparison.level(1) == "1.00")
    }
}
