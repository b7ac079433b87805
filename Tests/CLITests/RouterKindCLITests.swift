import Foundation
import Testing

/// With --init and no --router the kind is the model's: options of another kind are refused
/// once the model is read, with the usage line a named --router would have given.
@Suite struct RouterKindCLITests {
    @Test func optionsOfAnotherKindThanTheModelsAreRefused() throws {
        let s = try Scratch()
        let p = try RouterCLITests.prepare(s)
        try s.setup("ann-train", ["--router", "kernel", "--points", "4", "--epochs", "0", "--index", p.index.index,
                                  "--gt", p.trainTruth, "-o", s.path("k.annm"), p.train])
        let continued = ["--init", "k.annm", "--epochs", "1", "--index", p.index.index, "--gt", p.trainTruth,
                         "-o", s.output("k2.annm"), p.train]
        for (extra, words) in [(["--hidden", "8"], ["--hidden is for --router mlp and residual", "(see --help)"]),
                               (["--weight-decay", "0"], ["--weight-decay is for --router mlp and residual"])] {
            try expectFailure(try s.run("ann-train", continued + extra), tool: "ann-train", status: 64, mentioning: words, scratch: s)
        }
        RouterCLITests.expectTrained(try s.run("ann-train", continued + ["--precision", "float32", "--point-lr", "0"]))
    }
}
