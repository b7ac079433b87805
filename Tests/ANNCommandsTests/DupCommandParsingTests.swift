import ANNCommands
import ArgumentParser
import Testing

@Suite struct DupCommandParsingTests {
    static let required = ["--model", "m.annm", "--index", "i.anni", "--gt", "gt.annn"]

    @Test(arguments: [
        required + ["-o", "a2.ivecs", "train.bvecs"],
        required + ["--fraction", "0", "--rank", "random", "--seed", "3", "-o", "a2.anna", "--from", "bvecs", "-q"],
        required + ["--fraction", "1", "--rank", "margin", "--output", "a2.ibin", "-v", "-"],
        required + ["--rank", "confidence", "-o", "assign", "train.u8bin.zst"],
        required + ["--shard", "0/2", "-o", "d0.part", "train.bvecs"],
        ["--merge", "--index", "i.anni", "--fraction", "0.5", "--rank", "random", "-o", "a2.anna", "--next-index", "n.anni", "d0.part", "d1.part"],
    ])
    func accepts(_ arguments: [String]) {
        expectAccepted(DupCommand.self, arguments)
    }

    @Test(arguments: [
        (required, ["-o", "--next-index"]),
        (required + ["-o", "x.anni", "--next-index", "x.anni"], ["same file"]),
        (required + ["--next-index", "n.ivecs"], ["packed index"]),
        (Array(required.dropFirst(2)) + ["-o", "a2.ivecs"], ["--model"]),
        (["--model", "m.annm", "--gt", "gt.annn", "-o", "a2.ivecs"], ["--index"]),
        // Membership comes from the index: an assignment can no longer be given beside it.
        (required + ["--assignments", "a.ivecs", "-o", "a2.ivecs"], ["--assignments is no longer taken", "membership comes from the index"]),
        (required + ["-o", "a2.ivecs", "--fraction", "2"], ["--fraction must be between 0 and 1"]),
        (required + ["-o", "a2.ivecs", "--fraction", "1.01"], ["--fraction must be between 0 and 1"]),
        (required + ["-o", "a2.ivecs", "--fraction", "nan"], ["--fraction must be between 0 and 1"]),
        (required + ["-o", "a2.fvecs"], ["-o a2.fvecs", "assignment"]),
        (required + ["-o", "a2.bvecs"], ["-o a2.bvecs"]),
        (required + ["-o", "a2.ivecs.zst"], ["not compressed"]),
        (required + ["-o", "a2.ivecs", "--rank", "best"], ["best", "--rank"]),
        (required + ["-o", "a2.ivecs", "-q", "-v"], ["--quiet and --verbose"]),
        (required + ["-o", "a2.ivecs", "--epochs", "3"], ["--epochs"]),
        (required + ["--shard", "0/2", "--next-index", "n.anni", "train.bvecs"], ["--shard writes the slice's marked pairs with -o"]),
        (required + ["--shard", "0/2", "-o", "d0.part"], ["--shard reads the queries by position"]),
        (["--merge", "--index", "i.anni", "-o", "a2.anna"], ["--merge needs the parts of the slices"]),
        (required + ["--merge", "-o", "a2.anna", "d0.part"], ["--merge takes the slices' parts with --index"]),
        (required + ["-o", "a2.anna", "q1.fvecs", "q2.fvecs"], ["one file of training queries"]),
    ])
    func rejects(_ arguments: [String], _ words: [String]) {
        expectRejected(DupCommand.self, arguments, mentioning: words)
    }

    @Test func helpAndVersionAreCleanExits() {
        expectCleanExits(DupCommand.self)
        #expect(DupCommand.configuration.commandName == "ann-dup")
        #expect(DupCommand.helpMessage().contains("--fraction"))
        #expect(!DupCommand.helpMessage().contains("--assignments"), "membership comes from the index: the refused option is not offered")
    }
}
