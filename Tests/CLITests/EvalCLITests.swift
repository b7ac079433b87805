import ANNKit
import Foundation
import Testing

/// ann-eval score, sweep and plot on siftsmall in 16 clusters.
@Suite struct EvalCLITests {
    /// The report's lines as name → value.
    static func report(_ r: RunResult) -> [String: String] {
        var out = [String: String]()
        for line in String(decoding: r.stdout, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { out[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return out
    }

    @Test func scoreMatchesARecount() throws {
        let s = try Scratch()
        let gt = try s.scoreInputs(k: 100, nprobe: 1)
        let r = try s.run("ann-eval", ["score", "--gt", gt, "--stats", "s.tsv", "r.annn"])
        expectSuccess(r)
        let report = Self.report(r)
        let expected = recount(try NeighborList.load(s.path("r.annn")), try NeighborList.load(gt))
        #expect(expected.at1 < 1)
        #expect(report["queries"] == "100")
        #expect(report["recall@1"] == String(format: "%.4f", expected.at1))
        #expect(report["recall@10"] == String(format: "%.4f", expected.at10))
        #expect(report["clusters"] == "mean 1.0, p50 1, p95 1, p99 1")
        #expect(report["requests"] == "mean 1.0, p50 1, p95 1, p99 1", "one pread per cluster from a local file")
        let vectors = try StatsFile(s.path("s.tsv")).column("vectors")
        #expect(report["vectors"]?.hasPrefix("mean \(String(format: "%.1f", Double(vectors.reduce(0, +)) / 100)), ") == true, "\(report)")
        #expect(report["bytes"] != nil && report["micros"] != nil)
        #expect(String(decoding: r.stdout, as: UTF8.self).split(separator: "\n").first?.hasPrefix("queries ") == true)

        // The default subcommand, the results on stdin: the same report.
        let piped = try s.run("ann-eval", ["--gt", gt, "--stats", "s.tsv"], stdin: s.path("r.annn"))
        expectSuccess(piped)
        #expect(piped.stdout == r.stdout)
        // Without --stats, only the recall.
        #expect(Self.report(try s.run("ann-eval", ["score", "--gt", gt, "r.annn"])).keys.sorted() == ["queries", "recall@1", "recall@10"])
    }

    /// The curve: one row per setting, recall@1 never falling as more clusters are fetched,
    /// and exact with all of them; the summary on stdout with -o.
    @Test func sweepWritesTheCurve() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        let gt = try s.groundTruth(f.queries, k: 10)
        let r = try s.run("ann-eval", ["sweep", "--index", f.index, "--gt", gt, "--nprobe", "1,2,3,4,6,8,12,16,64", "-o", s.output("c.tsv"), f.queries])
        expectSuccess(r)
        let summary = String(decoding: r.stdout, as: UTF8.self)
        #expect(summary.hasPrefix("i.anni: 100 queries, 10000 vectors in 16 clusters\n"), "\(summary)")
        #expect(summary.contains("vectors fetched per query at recall@1"), "\(summary)")
        #expect(try s.outputs() == ["c.tsv"])

        let text = String(decoding: try readBytes(s.output("c.tsv")), as: UTF8.self)
        let curve = try RecallCurve.parse(text, source: "c.tsv")
        #expect(curve.label == "i.anni")
        // 64 is more than the 16 clusters: skipped.
        #expect(curve.points.map(\.setting) == ["nprobe=1", "nprobe=2", "nprobe=3", "nprobe=4", "nprobe=6", "nprobe=8", "nprobe=12", "nprobe=16"])
        for (a, b) in zip(curve.points, curve.points.dropFirst()) {
            #expect(a.recall1 <= b.recall1, "\(a.setting) -> \(b.setting)")
            #expect(a.vectors < b.vectors && a.clusters < b.clusters)
        }
        let last = try #require(curve.points.last)
        #expect(last.recall1 == 1 && last.recall10 == 1 && last.vectors == 10_000 && last.clusters == 16)
        #expect(curve.points[0].clusters == 1)

        // The same search as ann-query --nprobe 2, scored the same.
        try s.setup("ann-query", ["--index", f.index, "--nprobe", "2", "-o", s.path("r2.annn"), f.queries])
        let two = recount(try NeighborList.load(s.path("r2.annn")), try NeighborList.load(gt))
        #expect(String(format: "%.4f", curve.points[1].recall1) == String(format: "%.4f", two.at1))

        // The summary's fetch at the target is the curve's (which holds rounded figures).
        let said = summary.split(separator: "\n").first { $0.hasPrefix("vectors fetched per query at recall@1 0.90: ") }
        let number = said.flatMap { Double($0.dropFirst(44).split(separator: " ")[0]) }
        let v = try #require(curve.vectors(atRecall: 0.9), "the curve reaches 0.9")
        #expect(number.map { abs($0 - v.vectors) <= 0.01 * v.vectors + 0.1 } == true, "\(String(describing: said)) against \(v.vectors)")
    }

    /// Without -o the curve goes to stdout; -q drops the summary from stderr.
    @Test func sweepToStdoutByBudget() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        let gt = try s.groundTruth(f.queries, k: 10)
        let r = try s.run("ann-eval", ["sweep", "-q", "--index", f.index, "--gt", gt, "--budget", "100,500,2000,100000", "--label", "by budget", f.queries])
        expectSuccess(r)
        try writeBytes(r.stdout, to: s.output("b.tsv"))
        let curve = try RecallCurve.parse(String(decoding: r.stdout, as: UTF8.self), source: "b.tsv")
        #expect(curve.label == "by budget")
        #expect(curve.points.map(\.setting) == ["budget=100", "budget=500", "budget=2000", "budget=100000"])
        for (p, v) in zip(curve.points, [100.0, 500, 2000, 10_000]) { #expect(p.vectors >= v, "\(p.setting)") }
        #expect(zip(curve.points, curve.points.dropFirst()).allSatisfy { $0.recall1 <= $1.recall1 })
        #expect(curve.points.last?.recall1 == 1)
        // Not quiet: the summary on stderr.
        let loud = try s.run("ann-eval", ["sweep", "--index", f.index, "--gt", gt, "--budget", "500", f.queries])
        #expect(loud.status == 0)
        #expect(loud.stderr.contains("budget=500"), "\(loud.stderr)")
    }

    static let gnuplot = "/usr/bin/gnuplot"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: gnuplot), "\(gnuplot) is not installed: ann-eval plot not tested"))
    func plotDrawsAnImage() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        let gt = try s.groundTruth(f.queries, k: 10)
        try s.setup("ann-eval", ["sweep", "--index", f.index, "--gt", gt, "--nprobe", "1,2,4,8", "--label", "by nprobe", "-o", s.path("n.tsv"), f.queries])
        try s.setup("ann-eval", ["sweep", "--index", f.index, "--gt", gt, "--budget", "300,1000,3000", "--label", "by budget", "-o", s.path("b.tsv"), f.queries])
        let r = try s.run("ann-eval", ["plot", "-o", s.output("c.svg"), "--title", "siftsmall's curves", "n.tsv", "b.tsv"])
        expectSuccess(r)
        let svg = String(decoding: try readBytes(s.output("c.svg")), as: UTF8.self)
        #expect(svg.contains("<svg"))
        #expect(svg.contains("by nprobe") && svg.contains("by budget"))
        expectSuccess(try s.run("ann-eval", ["plot", "-o", s.output("c.PNG"), "n.tsv"]))
        #expect(Array(try readBytes(s.output("c.PNG")).prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
        #expect(try s.outputs().sorted() == ["c.PNG", "c.svg"])
    }
}
