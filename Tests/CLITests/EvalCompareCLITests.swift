import ANNKit
import Foundation
import Testing

/// ann-eval compare on curves that ann-eval sweep wrote for siftsmall in 16 clusters.
@Suite struct EvalCompareCLITests {
    /// Two curves of one index: by nprobe and by vector budget.
    static func curves(_ s: Scratch) throws -> (nprobe: String, budget: String) {
        let f = try s.siftIndex()
        let gt = try s.groundTruth(f.queries, k: 10)
        try s.setup("ann-eval", ["sweep", "--index", f.index, "--gt", gt, "--nprobe", "1,2,3,4,6,8", "--label", "by nprobe",
                                 "-o", s.path("n.tsv"), f.queries])
        try s.setup("ann-eval", ["sweep", "--index", f.index, "--gt", gt, "--budget", "500,1000,1500,2000,3000", "--label", "by budget",
                                 "-o", s.path("b.tsv"), f.queries])
        return (s.path("n.tsv"), s.path("b.tsv"))
    }

    @Test func tableOnStdoutAndInAFile() throws {
        let s = try Scratch()
        let c = try Self.curves(s)
        let r = try s.run("ann-eval", ["compare", "--levels", "0.8", c.nprobe, c.budget])
        expectSuccess(r)
        let md = String(decoding: r.stdout, as: UTF8.self)
        let lines = md.split(separator: "\n").map(String.init)
        #expect(lines[0] == "| curve | vectors @ 0.80 | vectors @ 0.90 | KB @ 0.90 | vs by nprobe |", "\(md)")
        // The fetch at 0.90 is the one read off the curve file, as sweep's summary reads it.
        let nprobe = try RecallCurve.parse(String(decoding: try readBytes(c.nprobe), as: UTF8.self), source: c.nprobe)
        let v = try #require(nprobe.vectors(atRecall: 0.9))
        let row = try #require(lines.first { $0.hasPrefix("| by nprobe |") }).split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(row[2] == String(format: "%.1f", v.vectors), "\(row)")
        #expect(row[4] == "1.00×")
        #expect(lines.contains { $0.hasPrefix("| by budget |") })
        #expect(lines.last?.hasPrefix("Fewest vectors per query at recall@1 0.90: ") == true, "\(md)")

        // -o: the same table in a file, nothing on stdout; a baseline named apart; TSV.
        let o = try s.run("ann-eval", ["compare", "--levels", "0.8", "-o", s.output("c.md"), c.nprobe, c.budget])
        expectSuccess(o)
        #expect(o.stdout.isEmpty)
        #expect(try readBytes(s.output("c.md")) == r.stdout)
        let t = try s.run("ann-eval", ["compare", "--format", "tsv", "--baseline", c.budget, c.nprobe])
        expectSuccess(t)
        let tsv = String(decoding: t.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(tsv[0] == "# ratio1: by budget (\(c.budget))")
        #expect(tsv[1] == "file\tlabel\trecall1\tbound\tvectors\tbytes\tratio1")
        #expect(tsv.count == 3 && tsv[2].hasPrefix("\(c.nprobe)\tby nprobe\t0.90\t="), "\(tsv)")
        #expect(try s.outputs() == ["c.md"])
    }

    @Test func curveOnStdin() throws {
        let s = try Scratch()
        let c = try Self.curves(s)
        let piped = try s.run("ann-eval", ["compare", "--format", "tsv", "-", c.budget], stdin: c.nprobe)
        expectSuccess(piped)
        let named = try s.run("ann-eval", ["compare", "--format", "tsv", c.nprobe, c.budget])
        let text = String(decoding: piped.stdout, as: UTF8.self)
        #expect(text.contains("-\tby nprobe\t0.90\t"), "\(text)")
        #expect(text.replacingOccurrences(of: "(-)", with: "(\(c.nprobe))").replacingOccurrences(of: "\n-\t", with: "\n\(c.nprobe)\t")
                == String(decoding: named.stdout, as: UTF8.self))
    }

    @Test func refusesWhatIsNotACurve() throws {
        let s = try Scratch()
        try Data("setting\tnot a curve\n".utf8).write(to: URL(fileURLWithPath: s.path("x.tsv")))
        try expectFailure(try s.run("ann-eval", ["compare", "-o", s.output("c.md"), s.path("x.tsv")]), tool: "ann-eval", status: 65,
                          mentioning: ["x.tsv", "not a recall curve"], scratch: s)
        try expectFailure(try s.run("ann-eval", ["compare", "-o", s.output("c.md"), s.path("nosuch.tsv")]), tool: "ann-eval", status: 66,
                          mentioning: ["nosuch.tsv"], scratch: s)
        try expectFailure(try s.run("ann-eval", ["compare", "--levels", "2", s.path("x.tsv")]), tool: "ann-eval", status: 64,
                          mentioning: ["--levels"], scratch: s)
    }
}
