import ANNCommands
import ArgumentParser
import Testing

/// ann-eval and its subcommands, parsed from the root as the tool does.
@Suite struct EvalCommandParsingTests {
    @Test(arguments: [
        // score is the default subcommand.
        (["--gt", "gt.annn", "r.annn"], "EvalScoreCommand"),
        (["--gt", "gt.annn"], "EvalScoreCommand"),
        (["score", "--gt", "gt.ivecs", "--gt-distances", "gt.fvecs", "--stats", "s.tsv", "-q", "r.annn"], "EvalScoreCommand"),
        (["score", "--gt", "gt.annn", "-"], "EvalScoreCommand"),
        (["sweep", "--index", "i.anni", "--gt", "gt.annn", "q.fvecs"], "EvalSweepCommand"),
        (["sweep", "--index", "i.anni", "--gt", "gt.annn", "--nprobe", "1,2, 4,64", "-k", "1", "--target", "1", "--label", "k-means 16",
          "--threads", "1", "-o", "c.tsv", "--from", "fvecs"], "EvalSweepCommand"),
        (["sweep", "--index", "i.anni", "--gt", "gt.annn", "--budget", "100,200", "--model", "m.annm", "--size-weight", "1", "-v", "q.fvecs"],
         "EvalSweepCommand"),
        (["sweep", "--index", "i.anni", "--gt", "gt.ivecs", "--gt-distances", "d.fbin", "--target", "0.01", "-"], "EvalSweepCommand"),
        (["sweep", "--index", "i.anni", "--gt", "gt.annn", "--prune", "0.2", "--nprobe", "4,8", "q.fvecs"], "EvalSweepCommand"),
        (["sweep", "--index", "i.anni", "--gt", "gt.annn", "--prune", "0", "--budget", "500", "q.fvecs"], "EvalSweepCommand"),
        (["sweep", "--index", "i.anni", "--gt", "gt.annn", "--model", "m.annm", "--threshold", "1e-4, 3e-5,1", "q.fvecs"], "EvalSweepCommand"),
        // Any one input may be stdin.
        (["score", "--gt", "gt.annn", "--stats", "-", "r.annn"], "EvalScoreCommand"),
        (["score", "--gt", "-", "--stats", "s.tsv", "r.annn"], "EvalScoreCommand"),
        (["sweep", "--index", "i.anni", "--gt", "-", "q.fvecs"], "EvalSweepCommand"),
        (["sweep", "--index", "i.anni", "--gt", "gt.annn", "--shard", "1/3", "-o", "s1.part", "q.fvecs"], "EvalSweepCommand"),
        (["sweep", "--merge", "--label", "all", "--target", "0.95", "-o", "c.tsv", "s0.part", "s1.part", "-"], "EvalSweepCommand"),
        (["plot", "-o", "c.svg", "a.tsv"], "EvalPlotCommand"),
        (["plot", "--output", "C.PNG", "--title", "two curves", "--target", "0.5", "-q", "a.tsv", "b.tsv"], "EvalPlotCommand"),
    ])
    func accepts(_ arguments: [String], _ subcommand: String) {
        do {
            let command = try EvalCommand.parseAsRoot(arguments)
            #expect(String(describing: type(of: command)) == subcommand, "\(arguments)")
        } catch {
            Issue.record("\(arguments) was refused: \(EvalCommand.message(for: error))")
        }
    }

    static let sweep = ["sweep", "--index", "i.anni", "--gt", "gt.annn"]

    @Test(arguments: [
        (["score", "r.annn"], ["--gt"]),
        (["r.annn"], ["--gt"]),
        (["--gt", "gt.annn", "--nope", "r.annn"], ["--nope"]),
        (["score", "--gt", "gt.annn", "-q", "-v"], ["--quiet and --verbose"]),
        (["score", "--gt", "gt.annn", "--index", "i.anni"], ["--index"]),
        (["sweep", "--gt", "gt.annn", "q.fvecs"], ["--index"]),
        (["sweep", "--index", "i.anni", "q.fvecs"], ["--gt"]),
        (sweep + ["--nprobe", "1,0"], ["--nprobe takes a comma-separated list of positive integers"]),
        (sweep + ["--nprobe", "1,x"], ["--nprobe takes a comma-separated list"]),
        (sweep + ["--nprobe", ","], ["--nprobe takes a comma-separated list"]),
        (sweep + ["--budget", "0"], ["--budget takes a comma-separated list"]),
        (sweep + ["--nprobe", "1", "--budget", "100"], ["--nprobe, --budget and --threshold exclude each other"]),
        (sweep + ["--model", "m.annm", "--threshold", "1e-4", "--nprobe", "2"], ["exclude each other"]),
        (sweep + ["--threshold", "1e-4"], ["--threshold needs --model"]),
        (sweep + ["--model", "m.annm", "--threshold", "1e-4,0"], ["--threshold takes a comma-separated list of numbers in (0, 1]"]),
        (sweep + ["--model", "m.annm", "--threshold", "x"], ["--threshold takes a comma-separated list"]),
        (sweep + ["--model", "m.annm", "--threshold", "1e-4", "--size-weight", "1"], ["--threshold and --size-weight"]),
        (sweep + ["-k", "0"], ["-k must be at least 1"]),
        (sweep + ["-k", "1048577"], ["at most 1048576"]),
        (sweep + ["--threads", "1000"], ["--threads must be at least 1 and at most 256"]),
        (sweep + ["--target", "0"], ["--target must be in (0, 1]"]),
        (sweep + ["--target", "1.5"], ["--target must be in (0, 1]"]),
        (sweep + ["--target", "nan"], ["--target"]),
        (sweep + ["--stats", "s.tsv"], ["--stats"]),
        (sweep + ["-o", "a.tsv", "-q", "-v"], ["--quiet and --verbose"]),
        (sweep + ["--prune=-1"], ["--prune must be"]),
        (sweep + ["--prune", "0.1", "--model", "m.annm"], ["--prune and --model exclude each other"]),
        (["score", "--gt", "gt.annn", "--prune", "0.1"], ["--prune"]),
        (["sweep", "--merge"], ["--merge needs the parts of the slices"]),
        (["sweep", "--merge", "--index", "i.anni", "s0.part"], ["--merge takes the slices' parts alone"]),
        (["sweep", "--merge", "--gt", "gt.annn", "s0.part"], ["--merge takes"]),
        (["sweep", "--merge", "-", "-"], ["only one part can be read from stdin"]),
        (sweep + ["--shard", "0/2"], ["--shard reads the queries by position"]),
        (sweep + ["--shard", "2/2", "q.fvecs"], ["--shard"]),
        (sweep + ["q.fvecs", "r.fvecs"], ["one query file at a time"]),
        // Two inputs cannot both be stdin; the results are stdin when not named.
        (["score", "--gt", "gt.annn", "--stats", "-"], ["the results and --stats cannot both be read from stdin"]),
        (["score", "--gt", "gt.annn", "--stats", "-", "-"], ["the results and --stats cannot both be read from stdin"]),
        (["score", "--gt", "-", "--stats", "-", "r.annn"], ["--gt and --stats cannot both be read from stdin"]),
        (["score", "--gt", "-"], ["the results and --gt cannot both"]),
        (["sweep", "--index", "i.anni", "--gt", "-"], ["the queries and --gt cannot both"]),
        (["sweep", "--index", "i.anni", "--gt", "gt.ivecs", "--gt-distances", "-", "q.fvecs", "--model", "-"], ["--gt-distances and --model"]),
        (["plot", "-o", "x.pdf", "a.tsv"], ["-o must end in .svg or .png"]),
        (["plot", "-o", "svg", "a.tsv"], ["-o must end in .svg or .png"]),
        (["plot", "a.tsv"], ["--output"]),
        (["plot", "-o", "x.svg"], ["curve"]),
        (["plot", "-o", "x.svg", "-q", "-v", "a.tsv"], ["--quiet and --verbose"]),
        (["plot", "-o", "x.svg", "--index", "i.anni", "a.tsv"], ["--index"]),
    ])
    func rejects(_ arguments: [String], _ words: [String]) {
        expectRootRejected(EvalCommand.self, arguments, mentioning: words)
    }

    @Test(arguments: [["--help"], ["--version"], ["sweep", "--help"], ["plot", "-h"], ["score", "--help"], ["help", "sweep"]])
    func helpAndVersionAreCleanExits(_ arguments: [String]) {
        do {
            // A tree of subcommands answers help with ArgumentParser's help command, whose run
            // is the clean exit.
            var command = try EvalCommand.parseAsRoot(arguments)
            guard String(describing: type(of: command)).contains("HelpCommand") else {
                Issue.record("\(arguments) parsed as \(type(of: command))")
                return
            }
            try command.run()
            Issue.record("\(arguments): the help command did not exit")
        } catch {
            #expect(EvalCommand.exitCode(for: error) == .success, "\(arguments)")
        }
    }

    @Test func subcommandHelpNamesItsFlags() {
        #expect(EvalCommand.configuration.commandName == "ann-eval")
        #expect(EvalCommand.configuration.subcommands.count == 4)
        for (name, flag) in [("sweep", "--budget"), ("plot", "--title"), ("score", "--stats")] {
            let sub = EvalCommand.configuration.subcommands.first { $0.configuration.commandName == name }
            #expect(sub?.helpMessage().contains(flag) == true, "\(name)")
        }
    }
}
