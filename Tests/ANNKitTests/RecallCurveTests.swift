import ANNKit
import Testing

/// The recall-versus-fetch curve: the fetch at a target recall, and the TSV that ann-eval
/// sweep writes and plot reads.
@Suite struct RecallCurveTests {
    static func point(_ setting: String, _ r1: Double, _ vectors: Double) -> RecallCurve.Point {
        .init(setting: setting, recall1: r1, recall10: r1 * 0.9, vectors: vectors, bytes: vectors * 130.25,
              clusters: vectors / 100, queriesPerSecond: 12345.678)
    }

    static let curve = RecallCurve(label: "k-means 16, centroid routing", points: [
        point("nprobe=1", 0.5, 100), point("nprobe=2", 0.8, 200), point("nprobe=4", 0.95, 400), point("nprobe=8", 0.99, 800),
    ])

    @Test func fetchAtTargetIsInterpolated() throws {
        let v = try #require(Self.curve.vectors(atRecall: 0.9))
        // Two thirds of the way from 0.8 to 0.95: 200 + 2/3 · 200.
        #expect(abs(v.vectors - (200 + 200 * 2 / 3)) < 1e-9)
        #expect(v.between?.0 == "nprobe=2" && v.between?.1 == "nprobe=4")
    }

    @Test func fetchAtTargetEdges() throws {
        // Reached by the first point: its fetch, nothing interpolated.
        let first = try #require(Self.curve.vectors(atRecall: 0.3))
        #expect(first.vectors == 100 && first.between == nil)
        // Reached exactly by a point: that point.
        let exact = try #require(Self.curve.vectors(atRecall: 0.8))
        #expect(exact.vectors == 200 && exact.between == nil)
        let top = try #require(Self.curve.vectors(atRecall: 0.99))
        #expect(top.vectors == 800)
        // Never reached.
        #expect(Self.curve.vectors(atRecall: 0.995) == nil)
    }

    @Test func tsvRoundTrip() throws {
        let text = Self.curve.tsv()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "# label: k-means 16, centroid routing")
        #expect(lines[1] == RecallCurve.header)
        #expect(lines[1] == "setting\trecall1\trecall10\tvectors\tbytes\tclusters\tqps")
        // Four decimals for recall, one for vectors, none for bytes and qps, two for clusters.
        #expect(lines[3] == "nprobe=2\t0.8000\t0.7200\t200.0\t26050\t2.00\t12346")
        #expect(lines.count == 6)

        let back = try RecallCurve.parse(text, source: "c.tsv")
        #expect(back.label == Self.curve.label)
        #expect(back.points.map(\.setting) == Self.curve.points.map(\.setting))
        for (a, b) in zip(back.points, Self.curve.points) {
            #expect(a.recall1 == b.recall1 && a.vectors == b.vectors)
            #expect(abs(try #require(a.recall10) - #require(b.recall10)) <= 5e-5 && abs(a.bytes - b.bytes) <= 0.5 && abs(a.queriesPerSecond - b.queriesPerSecond) <= 0.5)
        }
        #expect(back.tsv() == text)
    }

    @Test func parseSkipsCommentsAndNamesUnlabelledCurvesAfterTheirFile() throws {
        let text = "# written by hand\n\(RecallCurve.header)\nbudget=500\t0.9100\t0.8800\t612.5\t80000\t4.50\t900\n\n"
        let c = try RecallCurve.parse(text, source: "hand.tsv")
        #expect(c.label == "hand.tsv")
        #expect(c.points.count == 1 && c.points[0].setting == "budget=500" && c.points[0].vectors == 612.5)
    }

    @Test(arguments: [
        ("", "no points"),
        ("# label: x\n", "no points"),
        ("setting\trecall1\n", "not a recall curve"),
        ("\(RecallCurve.header)\n", "no points"),
        ("\(RecallCurve.header)\nnprobe=1\t0.5\t0.4\t100\n", "line 2"),
        ("\(RecallCurve.header)\nnprobe=1\t0.5\tx\t100\t1\t1\t1\n", "line 2"),
        ("\(RecallCurve.header)\nnprobe=1\tn/a\t0.4\t100\t1\t1\t1\n", "line 2"),
    ])
    func parseRefusesWhatIsNotACurve(_ text: String, _ words: String) {
        let e = annError { _ = try RecallCurve.parse(text, source: "bad.tsv") }
        #expect(e?.exitCode == 65)
        #expect(e?.description.contains("bad.tsv") == true)
        #expect(e?.description.contains(words) == true, "\(String(describing: e))")
    }

    /// A recall@10 that the ground truth cannot define (fewer than 10 neighbours per query) is
    /// written n/a, never a number of another definition, and read back as none.
    @Test func undefinedRecall10RoundTrips() throws {
        let curve = RecallCurve(label: "k1", points: [.init(setting: "nprobe=1", recall1: 0.5, recall10: nil, vectors: 100, bytes: 1000,
                                                          clusters: 1, queriesPerSecond: 10)])
        let text = curve.tsv()
        #expect(text.split(separator: "\n")[2] == "nprobe=1\t0.5000\tn/a\t100.0\t1000\t1.00\t10")
        let back = try RecallCurve.parse(text, source: "k1.tsv")
        #expect(back.points.count == 1 && back.points[0].recall10 == nil && back.points[0].recall1 == 0.5)
    }
}
