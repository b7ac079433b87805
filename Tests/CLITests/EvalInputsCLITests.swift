import ANNKit
import Foundation
import Testing

/// ann-eval's inputs: any one of them may be stdin, and a ground truth too short for recall@10
/// gives none rather than another measure under its name.
@Suite struct EvalInputsCLITests {
    /// Regression: `ann-eval score --stats -` said "-: no such file" (66) where every other
    /// input takes "-" for stdin.
    @Test func statsFromStandardInput() throws {
        let s = try Scratch()
        let gt = try s.scoreInputs(k: 10, nprobe: 2)
        let named = try s.run("ann-eval", ["score", "--gt", gt, "--stats", "s.tsv", "r.annn"])
        expectSuccess(named)
        let piped = try s.run("ann-eval", ["score", "--gt", gt, "--stats", "-", "r.annn"], stdin: s.path("s.tsv"))
        expectSuccess(piped)
        #expect(piped.stdout == named.stdout)
        #expect(EvalCLITests.report(piped)["vectors"] != nil)

        // Damaged on stdin: named as <stdin>.
        try s.write(Array("query\tclusters\n1\t2\n".utf8), to: "bad.tsv")
        try expectFailure(try s.run("ann-eval", ["score", "--gt", gt, "--stats", "-", "r.annn"], stdin: s.path("bad.tsv")),
                          tool: "ann-eval", status: 65, mentioning: ["<stdin>"], scratch: s)
        // Refused only where another input already reads stdin.
        try expectFailure(try s.run("ann-eval", ["score", "--gt", gt, "--stats", "-"], stdin: s.path("r.annn")),
                          tool: "ann-eval", status: 64, mentioning: ["the results and --stats cannot both be read from stdin"], scratch: s)
        // The ground truth on stdin, the results named.
        let gtPiped = try s.run("ann-eval", ["score", "--gt", "-", "--stats", "s.tsv", "r.annn"], stdin: gt)
        expectSuccess(gtPiped)
        #expect(gtPiped.stdout == named.stdout)
    }

    /// Regression: with a ground truth of k = 1, "recall@10" counted whether the nearest was
    /// among the first 10 results (0.99 here), with k = 100 the share of the true 10 found
    /// (far lower): two measures under one name. Under 10 true neighbours it is n/a, in score,
    /// in the summary of sweep and in the curve; recall@1 is the same either way.
    @Test func groundTruthOfFewerThanTenGivesNoRecallAt10() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        let gt1 = try s.groundTruth(f.queries, k: 1, name: "gt1.annn")
        let gt9 = try s.groundTruth(f.queries, k: 9, name: "gt9.annn")
        let gt100 = try s.groundTruth(f.queries, k: 100, name: "gt100.annn")
        try s.setup("ann-query", ["--index", f.index, "--nprobe", "2", "-o", s.path("r.annn"), f.queries])

        let full = try s.run("ann-eval", ["score", "--gt", gt100, "r.annn"])
        expectSuccess(full)
        let fullReport = EvalCLITests.report(full)
        #expect(fullReport["recall@10"].flatMap(Double.init) != nil, "\(fullReport)")
        for (gt, k) in [(gt1, 1), (gt9, 9)] {
            let short = try s.run("ann-eval", ["score", "--gt", gt, "r.annn"])
            expectSuccess(short)
            let report = EvalCLITests.report(short)
            #expect(report["recall@1"] == fullReport["recall@1"])
            #expect(report["recall@10"] == "n/a (the ground truth has \(k) neighbour\(k == 1 ? "" : "s") per query, recall@10 needs 10)",
                    "\(report)")
        }

        let sweep = try s.run("ann-eval", ["sweep", "--index", f.index, "--gt", gt1, "--nprobe", "1,2", "-o", s.output("c.tsv"), f.queries])
        expectSuccess(sweep)
        let text = String(decoding: try readBytes(s.output("c.tsv")), as: UTF8.self)
        let curve = try RecallCurve.parse(text, source: "c.tsv")
        #expect(curve.points.count == 2 && curve.points.allSatisfy { $0.recall10 == nil && $0.recall1 > 0 })
        #expect(text.split(separator: "\n").dropFirst(2).allSatisfy { $0.split(separator: "\t")[2] == "n/a" }, "\(text)")
        let summary = String(decoding: sweep.stdout, as: UTF8.self)
        #expect(summary.contains("recall@10: n/a (the ground truth has 1 neighbour per query, recall@10 needs 10)"), "\(summary)")
        // The curve with its n/a plots like any other.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/gnuplot") {
            expectSuccess(try s.run("ann-eval", ["plot", "-o", s.output("c.svg"), s.output("c.tsv")]))
            #expect(String(decoding: try readBytes(s.output("c.svg")), as: UTF8.self).contains("<svg"))
        }
    }

    /// The plot goes through the same temporary output as every other: nothing under the
    /// name, nor a temporary, when gnuplot cannot draw it; a leftover of an ended process is
    /// removed.
    @Test func plotWritesThroughATemporaryOutput() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gnuplot") else { return }
        let s = try Scratch()
        try s.write(Array("\(RecallCurve.header)\nnprobe=1\t0.5\t0.4\t100\t1000\t1.00\t10\nnprobe=2\t0.9\t0.8\t200\t2000\t2.00\t10\n".utf8), to: "c.tsv")
        let stale = s.output(".p.png.tmp.\(try endedProcessID())")
        try writeBytes([0], to: stale)
        expectSuccess(try s.run("ann-eval", ["plot", "-o", s.output("p.png"), "c.tsv"]))
        #expect(try s.outputs() == ["p.png"])
        #expect(try readBytes(s.output("p.png")).prefix(4) == [0x89, 0x50, 0x4E, 0x47])
        // A directory that does not exist is refused before gnuplot runs, in one line.
        try FileManager.default.removeItem(atPath: s.output("p.png"))
        try expectFailure(try s.run("ann-eval", ["plot", "-o", s.output("no/p.svg"), "c.tsv"]), tool: "ann-eval", status: 73,
                          mentioning: ["no/p.svg"], scratch: s)
    }
}
