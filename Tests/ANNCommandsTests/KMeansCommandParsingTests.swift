import ANNCommands
import ArgumentParser
import Testing

@Suite struct KMeansCommandParsingTests {
    @Test(arguments: [
        ["-k", "64", "base.fvecs"],
        ["-k", "1"],
        ["-k", "64", "-"],
        ["-k", "64", "--iters", "0", "--seed", "7", "--init", "random", "base.fvecs"],
        ["-k", "64", "--iters", "5", "--init", "kmeans++", "--metric", "cos", "-o", "c.fvecs", "base.fvecs"],
        ["-k", "64", "--sample", "64", "--assignments", "a.ivecs", "-o", "c.annv", "base.u8bin"],
        ["-k", "8", "--from", "fvecs", "--to", "fbin", "-q"],
        ["-k", "8", "--from", "native", "-v", "--metric", "ip", "--output", "c.annv"],
        ["-k", "8", "--assignments", "-", "-o", "c.annv"],
        ["-k", "8", "--seed", "18446744073709551615", "base.fvecs"],
        ["base.fvecs", "-k", "3"],
        ["-k", "8", "-o", "c.fbin", "--assignments", "a.ibin", "base.fvecs"],
        ["-k", "8", "--to", "fvecs", "--assignments", "a.anna", "-o", "c.out", "base.fvecs"],
        // Replication, after training or to given centroids.
        ["-k", "64", "--replicate", "--assignments", "a.ivecs", "-o", "c.fvecs", "base.fvecs"],
        ["-k", "64", "--sample", "1000", "--replicate", "--replicas", "1", "--epsilon", "0", "--assignments", "a.anna", "-o", "c.annv"],
        ["--centroids", "c.fvecs", "--assignments", "a.ivecs", "base.bvecs"],
        ["--centroids", "c.annv", "--replicate", "--assignments", "-", "-v"],
        ["--centroids", "c.fvecs", "-k", "1024", "--metric", "ip", "--replicate", "--replicas", "16", "--epsilon", "0.25",
         "--assignments", "a.ibin", "--from", "u8bin", "-"],
    ])
    func accepts(_ arguments: [String]) {
        expectAccepted(KMeansCommand.self, arguments)
    }

    @Test(arguments: [
        (["base.fvecs"], ["-k"]),
        (["-k", "0", "base.fvecs"], ["-k must be at least 1"]),
        (["-k", "4294967296", "base.fvecs"], ["-k must be at least 1 and at most 4294967295"]),
        (["-k", "4", "--sample", "4294967296", "base.fvecs"], ["--sample must be at most 4294967295"]),
        (["-k", "-3", "base.fvecs"], ["-k"]),
        (["-k", "ten", "base.fvecs"], ["ten"]),
        (["-k", "64", "--sample", "10", "base.fvecs"], ["--sample", "at least -k"]),
        (["-k", "8", "--iters", "-1"], ["--iters"]),
        (["-k", "8", "--quiet", "--verbose"], ["--quiet and --verbose"]),
        (["-k", "8", "-q", "-v"], ["--quiet and --verbose"]),
        (["-k", "8", "--metric", "hamming"], ["hamming", "--metric"]),
        (["-k", "8", "--init", "kmeans||"], ["--init"]),
        (["-k", "8", "--from", "csv"], ["csv", "--from"]),
        (["-k", "8", "--to", "tsv"], ["tsv", "--to"]),
        (["-k", "8", "--assignments", "c.fvecs", "-o", "c.fvecs"], ["--assignments and -o"]),
        (["-k", "8", "--assignments", "-"], ["stdout"]),
        (["-k", "8", "--assignments", "-", "-o", "-"], ["--assignments"]),
        (["-k", "8", "-o", "c.ivecs"], ["-o c.ivecs", "centroids"]),
        (["-k", "8", "-o", "c.bvecs"], ["-o c.bvecs"]),
        (["-k", "8", "-o", "c.fvecs.zst"], ["compressed"]),
        (["-k", "8", "--to", "ibin"], ["--to ibin"]),
        (["-k", "8", "--assignments", "a.fvecs", "-o", "c.fvecs"], ["--assignments a.fvecs"]),
        (["-k", "8", "--bogus"], ["--bogus"]),
        (["-k", "8", "a.fvecs", "b.fvecs"], ["b.fvecs"]),
        (["-k", "8", "--seed", "-1"], ["--seed"]),
        // --replicas and --epsilon tune --replicate, which needs an assignment to write.
        (["-k", "8", "--replicas", "4", "--assignments", "a.ivecs", "-o", "c.fvecs"], ["--replicas needs --replicate"]),
        (["-k", "8", "--epsilon", "0.2", "--assignments", "a.ivecs", "-o", "c.fvecs"], ["--epsilon needs --replicate"]),
        (["--centroids", "c.fvecs", "--epsilon", "0.2", "--assignments", "a.ivecs"], ["--epsilon needs --replicate"]),
        (["-k", "8", "--replicate", "-o", "c.fvecs"], ["--replicate needs --assignments"]),
        (["-k", "8", "--replicate", "--replicas", "0", "--assignments", "a.ivecs", "-o", "c.fvecs"], ["--replicas must be at least 1"]),
        (["-k", "8", "--replicate", "--epsilon=-0.1", "--assignments", "a.ivecs", "-o", "c.fvecs"], ["--epsilon must be"]),
        (["-k", "8", "--replicate", "--epsilon", "nan", "--assignments", "a.ivecs", "-o", "c.fvecs"], ["--epsilon must be"]),
        (["-k", "8", "--replicate", "--epsilon", "inf", "--assignments", "a.ivecs", "-o", "c.fvecs"], ["--epsilon must be"]),
        (["-k", "8", "--replicate", "--replicas", "two", "--assignments", "a.ivecs", "-o", "c.fvecs"], ["two", "--replicas"]),
        // --centroids only assigns: it needs --assignments, trains nothing, writes no centroids.
        (["--centroids", "c.fvecs", "base.fvecs"], ["--centroids needs --assignments"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "-o", "c2.fvecs"], ["-o has no use with --centroids"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--to", "fvecs"], ["--to has no use with --centroids"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--sample", "100"], ["--sample has no use with --centroids"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--iters", "3"], ["--iters has no use with --centroids"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--seed", "3"], ["--seed has no use"]),
        (["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--init", "random"], ["--init has no use"]),
        (["--centroids", "a.anna", "--assignments", "a.anna"], ["--centroids and --assignments name the same file"]),
        (["--centroids", "c.fvecs", "-k", "0", "--assignments", "a.ivecs"], ["-k must be at least 1"]),
        (["--centroids", "c.fvecs", "--assignments", "a.fvecs"], ["--assignments a.fvecs"]),
        (["--replicate", "--assignments", "a.ivecs", "base.fvecs"], ["-k", "--centroids"]),
    ])
    func rejects(_ arguments: [String], _ words: [String]) {
        expectRejected(KMeansCommand.self, arguments, mentioning: words)
    }

    @Test func helpAndVersionAreCleanExits() {
        for flag in ["--help", "-h", "--version"] {
            #expect(throws: (any Error).self) { _ = try KMeansCommand.parse([flag]) }
            do { _ = try KMeansCommand.parse([flag]) } catch {
                #expect(KMeansCommand.exitCode(for: error) == .success, "\(flag)")
            }
        }
        #expect(KMeansCommand.configuration.commandName == "ann-kmeans")
        #expect(KMeansCommand.configuration.version == toolVersion)
        #expect(KMeansCommand.helpMessage().contains("--assignments"))
        for flag in ["--centroids", "--replicate", "--replicas", "--epsilon"] { #expect(KMeansCommand.helpMessage().contains(flag)) }
    }
}
