import ANNCommands
import ArgumentParser
import Testing

@Suite struct GroundTruthCommandParsingTests {
    @Test(arguments: [
        ["--base", "base.fvecs", "-k", "100", "queries.fvecs"],
        ["--base", "base.fvecs", "-k", "1"],
        ["--base", "-", "--base-from", "fvecs", "-k", "10", "queries.fvecs"],
        ["--base", "base.fvecs", "-k", "10", "-"],
        ["--base", "base.bin", "--base-from", "u8bin", "-k", "10", "--metric", "ip", "--from", "fbin", "-o", "gt.ivecs", "--to", "ibin"],
        ["--base", "base.fvecs", "-k", "10", "--metric", "cos", "-q", "queries.fvecs"],
        ["-k", "10", "--base", "b.annv", "-v", "--output", "gt.annn", "q.annv"],
        ["-k", "10", "--base", "b.fvecs.zst", "-o", "gt.fbin", "q.fvecs.zst"],
    ])
    func accepts(_ arguments: [String]) {
        expectAccepted(GroundTruthCommand.self, arguments)
    }

    @Test(arguments: [
        (["-k", "10", "queries.fvecs"], ["--base"]),
        (["--base", "base.fvecs", "queries.fvecs"], ["-k"]),
        (["--base", "base.fvecs", "-k", "0", "queries.fvecs"], ["-k must be at least 1"]),
        (["--base", "base.fvecs", "-k", "1048577", "queries.fvecs"], ["-k must be at least 1 and at most 1048576"]),
        (["--base", "base.fvecs", "-k", "-1", "queries.fvecs"], ["-k"]),
        (["--base", "-", "-k", "10"], ["stdin"]),
        (["--base", "-", "-k", "10", "-"], ["stdin"]),
        (["--base", "b.fvecs", "-k", "10", "--metric", "L2"], ["L2", "--metric"]),
        (["--base", "b.fvecs", "-k", "10", "--base-from", "npy"], ["npy", "--base-from"]),
        (["--base", "b.fvecs", "-k", "10", "--quiet", "--verbose"], ["--quiet and --verbose"]),
        (["--base", "b.fvecs", "-k", "10", "--seed", "3"], ["--seed"]),
        (["--base", "b.fvecs", "-k", "10", "q1.fvecs", "q2.fvecs"], ["q2.fvecs"]),
        (["--base", "b.fvecs", "-k"], ["-k"]),
        (["--base", "b.fvecs", "-k", "10", "-o", "gt.bvecs"], ["-o gt.bvecs", "neighbour list"]),
        (["--base", "b.fvecs", "-k", "10", "-o", "gt.annn.zst"], ["compressed"]),
        (["--base", "b.fvecs", "-k", "10", "--to", "u8bin"], ["--to u8bin"]),
    ])
    func rejects(_ arguments: [String], _ words: [String]) {
        expectRejected(GroundTruthCommand.self, arguments, mentioning: words)
    }

    @Test func helpAndVersionAreCleanExits() {
        for flag in ["--help", "--version"] {
            do {
                _ = try GroundTruthCommand.parse(["--base", "b", "-k", "1", flag])
                Issue.record("\(flag) did not end parsing")
            } catch {
                #expect(GroundTruthCommand.exitCode(for: error) == .success, "\(flag)")
            }
        }
        #expect(GroundTruthCommand.configuration.commandName == "ann-groundtruth")
    }
}
