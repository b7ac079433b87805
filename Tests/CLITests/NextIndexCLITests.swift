import ANNKit
import Foundation
import Testing

/// ann-dup --next-index: the next round's index from the current one, equal byte for byte to
/// ann-pack of the base with the assignment ann-dup writes, and refused where it cannot be.
@Suite struct NextIndexCLITests {
    @Test(arguments: [Metric.l2, .cos])
    func nextIndexEqualsRepacking(_ metric: Metric) throws {
        let s = try Scratch()
        let f = try s.siftIndex(metric: metric, iters: 3)
        let train = try s.sample("bigann10k_base.bvecs")
        let truth = try s.groundTruth(train, k: 1, metric: metric, name: "train-gt.annn")
        try s.setup("ann-train", ["--router", "kernel", "--epochs", "1", "--validation", "0", "--index", f.index,
                                  "--gt", truth, "-o", s.path("m.annm"), train])
        let r = try s.run("ann-dup", ["--model", "m.annm", "--index", f.index, "--gt", truth, "--fraction", "0.5",
                                      "-o", s.output("a.ivecs"), "--next-index", s.output("next.anni"), train])
        expectSuccess(r)
        try s.setup("ann-pack", ["--metric", metric.rawValue, "--centroids", f.centroids, "--assignments", s.output("a.ivecs"),
                                 "-o", s.path("packed.anni"), f.base])
        let next = try readBytes(s.output("next.anni")), packed = try readBytes(s.path("packed.anni"))
        #expect(next == packed, "ann-dup --next-index (\(next.count) bytes) and ann-pack (\(packed.count) bytes) differ")
        // The round copied something, so the index really changed.
        #expect(next != (try readBytes(f.index)))
        // Only the index, without the assignment.
        expectSuccess(try s.run("ann-dup", ["--model", "m.annm", "--index", f.index, "--gt", truth, "--fraction", "0.5",
                                            "--next-index", s.output("only.anni"), train]))
        #expect(try readBytes(s.output("only.anni")) == packed)
    }

    @Test func refusedForms() throws {
        let s = try Scratch()
        let base = ["--model", "m.annm", "--index", "i.anni", "--gt", "g.annn"]
        for (args, words) in [
            ([String](), ["-o", "--next-index"]),
            (["--next-index", "out/n.ivecs"], ["packed index"]),
            (["-o", "out/x.anni", "--next-index", "out/x.anni"], ["same file"]),
            (["--next-index", "i.anni"], ["--index"]),
        ] {
            try expectFailure(try s.run("ann-dup", base + args + ["q.fvecs"]), tool: "ann-dup", status: 64, mentioning: words, scratch: s)
        }
    }
}
