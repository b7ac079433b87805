import ANNCommands
import ArgumentParser
import Testing

@Suite struct QueryCommandParsingTests {
    @Test(arguments: [
        ["--index", "i.anni", "q.fvecs"],
        ["--index", "i.anni", "-k", "100", "--nprobe", "1", "--batch", "1", "--threads", "1", "--stats", "s.tsv", "--drop-cache",
         "-o", "r.ivecs", "q.bvecs"],
        ["--index", "i.anni", "--budget", "500", "--metric", "cos", "--from", "fvecs", "--to", "fbin", "-q"],
        ["--index", "i.anni", "--model", "m.annm", "--size-weight", "1", "--nprobe", "3", "-o", "r.annn", "-v", "-"],
        ["--index", "i.anni", "--budget", "1", "-o", "r.fvecs", "--to", "native", "q.u8bin.zst"],
        ["q.fvecs", "--index", "i.anni", "--output", "r.ibin", "--nprobe", "100000"],
        ["--index", "i.anni", "--prune", "0.1", "--nprobe", "8", "q.fvecs"],
        ["--index", "i.anni", "--prune", "0", "--budget", "1000", "--size-weight", "0.5", "q.fvecs"],
        ["--index", "i.anni", "--model", "m.annm", "--threshold", "1e-5", "q.fvecs"],
        ["--index", "i.anni", "--model", "m.annm", "--threshold", "1", "q.fvecs"],
    ])
    func accepts(_ arguments: [String]) {
        expectAccepted(QueryCommand.self, arguments)
    }

    @Test(arguments: [
        (["q.fvecs"], ["--index"]),
        (["--index", "i.anni", "--nprobe", "0", "q.fvecs"], ["--nprobe must be at least 1"]),
        (["--index", "i.anni", "--nprobe", "4", "--budget", "100", "q.fvecs"], ["--nprobe, --budget and --threshold exclude each other"]),
        (["--index", "i.anni", "--model", "m.annm", "--threshold", "1e-5", "--budget", "100", "q.fvecs"], ["exclude each other"]),
        (["--index", "i.anni", "--threshold", "1e-5", "q.fvecs"], ["--threshold needs --model", "ann-train --epochs 0"]),
        (["--index", "i.anni", "--model", "m.annm", "--threshold", "0", "q.fvecs"], ["--threshold must be in (0, 1]"]),
        (["--index", "i.anni", "--model", "m.annm", "--threshold", "2", "q.fvecs"], ["--threshold must be in (0, 1]"]),
        (["--index", "i.anni", "--model", "m.annm", "--threshold", "1e-5", "--size-weight", "1", "q.fvecs"], ["--threshold and --size-weight"]),
        (["--index", "i.anni", "--budget", "0", "q.fvecs"], ["--budget must be at least 1"]),
        (["--index", "i.anni", "--nprobe", "four", "q.fvecs"], ["four", "--nprobe"]),
        (["--index", "i.anni", "-k", "0", "q.fvecs"], ["-k must be at least 1"]),
        (["--index", "i.anni", "--batch", "0", "q.fvecs"], ["--batch must be at least 1"]),
        (["--index", "i.anni", "--threads", "0", "q.fvecs"], ["--threads must be at least 1"]),
        (["--index", "i.anni", "--batch", "1000000000", "q.fvecs"], ["--batch must be at least 1 and at most 1048576"]),
        (["--index", "i.anni", "-k", "1048577", "q.fvecs"], ["-k must be at least 1 and at most 1048576"]),
        (["--index", "i.anni", "--threads", "257", "q.fvecs"], ["--threads must be at least 1 and at most 256"]),
        (["--index", "i.anni", "-o", "r.bvecs", "q.fvecs"], ["-o r.bvecs", "neighbour list"]),
        (["--index", "i.anni", "-o", "r.u8bin", "q.fvecs"], ["-o r.u8bin"]),
        (["--index", "i.anni", "-o", "r.annn.zst", "q.fvecs"], ["not compressed"]),
        (["--index", "i.anni", "--to", "u8bin", "q.fvecs"], ["--to u8bin"]),
        (["--index", "i.anni", "--metric", "manhattan", "q.fvecs"], ["manhattan", "--metric"]),
        (["--index", "i.anni", "-q", "-v", "q.fvecs"], ["--quiet and --verbose"]),
        (["--index", "i.anni", "--size-weight", "heavy", "q.fvecs"], ["heavy", "--size-weight"]),
        (["--index", "i.anni", "--level", "3", "q.fvecs"], ["--level"]),
        (["--index", "i.anni", "a.fvecs", "b.fvecs"], ["b.fvecs"]),
        (["--index", "i.anni", "--prune=-0.5", "q.fvecs"], ["--prune must be"]),
        (["--index", "i.anni", "--prune", "nan", "q.fvecs"], ["--prune must be"]),
        (["--index", "i.anni", "--prune", "much", "q.fvecs"], ["much", "--prune"]),
        (["--index", "i.anni", "--prune", "0.1", "--model", "m.annm", "q.fvecs"], ["--prune and --model exclude each other"]),
    ])
    func rejects(_ arguments: [String], _ words: [String]) {
        expectRejected(QueryCommand.self, arguments, mentioning: words)
    }

    @Test func helpAndVersionAreCleanExits() {
        expectCleanExits(QueryCommand.self)
        #expect(QueryCommand.configuration.commandName == "ann-query")
        #expect(QueryCommand.helpMessage().contains("--budget"))
    }
}
