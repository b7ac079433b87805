import ANNCommands
import ArgumentParser
import Testing

@Suite struct PackCommandParsingTests {
    @Test(arguments: [
        ["--centroids", "c.fvecs", "--assignments", "a.ivecs", "base.fvecs"],
        ["--centroids", "c.annv", "--assignments", "a.anna", "--level", "19", "--memory", "1", "--metric", "ip", "-o", "i.anni", "-v", "base.fvecs"],
        ["--centroids", "c.fvecs", "--assignments", "a.ibin", "--from", "bvecs", "--level", "1", "-q", "--output", "index"],
        ["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--metric", "cos", "-o", "-", "-"],
        ["base.fvecs.zst", "--assignments", "a.ivecs", "--centroids", "c.fbin"],
    ])
    func accepts(_ arguments: [String]) {
        expectAccepted(PackCommand.self, arguments)
    }

    @Test(arguments: [
        (["--assignments", "a.ivecs", "base.fvecs"], ["--centroids"]),
        (["--centroids", "c.fvecs", "base.fvecs"], ["--assignments"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--level", "0"], ["--level must be between 1 and 19"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--level", "20"], ["--level must be between 1 and 19"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--level", "fast"], ["fast", "--level"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--memory", "0"], ["--memory must be at least 1"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--memory", "1048577"], ["--memory must be at least 1 and at most 1048576"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "-o", "x.zst"], ["-o x.zst", "not compressed"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "-o", "i.anni.zst"], ["not compressed"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "-o", "i.fvecs"], ["-o i.fvecs", "packed index"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "-o", "i.ivecs"], ["-o i.ivecs"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--metric", "hamming"], ["hamming", "--metric"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "-q", "-v"], ["--quiet and --verbose"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--from", "csv"], ["csv", "--from"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--nprobe", "4"], ["--nprobe"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "b.fvecs", "c.fvecs"], ["c.fvecs"]),
    ])
    func rejects(_ arguments: [String], _ words: [String]) {
        expectRejected(PackCommand.self, arguments, mentioning: words)
    }

    @Test func helpAndVersionAreCleanExits() {
        expectCleanExits(PackCommand.self)
        #expect(PackCommand.configuration.commandName == "ann-pack")
        #expect(PackCommand.configuration.version == toolVersion)
        #expect(PackCommand.helpMessage().contains("--memory"))
    }
}
