import ANNKit
import Foundation
import Testing

/// Every failure: the sysexits status, one line `tool: error: ...` on stderr, nothing on
/// stdout, and no file (not even a temporary one) under out/.
@Suite struct ErrorCLITests {
    static let query = Encode.fvecs((0..<(20 * 8)).map { Float($0 % 13) }, dim: 8)

    /// Runs both tools on `bad` as their main input (kmeans' input, groundtruth's queries and,
    /// separately, its base), expecting `status`.
    func expectBothRefuse(_ bad: [UInt8], name: String, status: Int32, mentioning words: [String],
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
        let runs: [(String, [String])] = [
            ("ann-kmeans", ["-k", "2", "-o", "out/c.annv", name]),
            ("ann-groundtruth", ["--base", "good.fvecs", "-k", "2", "-o", "out/gt.annn", name]),
            ("ann-groundtruth", ["--base", name, "-k", "2", "-o", "out/gt.annn", "good.fvecs"]),
        ]
        // A scratch directory per run: what one run leaves behind must not be blamed on the next.
        for (tool, arguments) in runs {
            let s = try Scratch()
            try s.write(bad, to: name)
            try s.write(Self.query, to: "good.fvecs")
            try expectFailure(try s.run(tool, arguments), tool: tool, status: status, mentioning: words, scratch: s,
                              sourceLocation: sourceLocation)
        }
    }

    @Test func neighbourListGivenAsVectors() throws {
        let list = NeighborList(k: 2, metric: .l2, ids: [0, 1, 2, 3], distances: [0, 1, 2, 3])
        let s = try Scratch()
        let out = try OutputFile(path: s.path("gt.annn"))
        try list.write(to: out, format: .native)
        try out.commit()
        try expectBothRefuse(try readBytes(s.path("gt.annn")), name: "gt.annn", status: 65, mentioning: ["gt.annn: is a neighbour list, not vectors"])
    }

    @Test func ivecsGivenAsVectors() throws {
        try expectBothRefuse(try SampleData.bytes("siftsmall_groundtruth.ivecs"), name: "gt.ivecs", status: 65,
                             mentioning: ["gt.ivecs", "not vectors"])
    }

    @Test func truncatedRecord() throws {
        try expectBothRefuse(Array(Self.query.dropLast(7)), name: "cut.fvecs", status: 65, mentioning: ["cut.fvecs", "truncated"])
    }

    @Test func recordOfAnotherDimension() throws {
        var b = Self.query
        b[5 * 36] = 9
        try expectBothRefuse(b, name: "d.fvecs", status: 65, mentioning: ["d.fvecs: record 5: dimension 9 does not match 8"])
    }

    @Test(arguments: [Float.nan, .infinity])
    func nonFiniteValue(_ v: Float) throws {
        var values = (0..<(20 * 8)).map { Float($0) }
        values[3 * 8 + 2] = v
        try expectBothRefuse(Encode.fvecs(values, dim: 8), name: "n.fvecs", status: 65,
                             mentioning: ["n.fvecs: record 3: value 2 is \(v.isNaN ? "NaN" : "infinite")"])
    }

    @Test func emptyInput() throws {
        try expectBothRefuse([], name: "e.fvecs", status: 65, mentioning: ["e.fvecs", "empty"])
        let s = try Scratch()
        try s.write([], to: "empty")
        try expectFailure(try s.run("ann-kmeans", ["-k", "1", "-o", s.output("c.annv"), "--from", "fvecs"], stdin: s.path("empty")),
                          tool: "ann-kmeans", status: 65, mentioning: ["<stdin>", "empty"], scratch: s)
    }

    @Test func unnamedFormOnStdin() throws {
        let s = try Scratch()
        try s.write(Self.query, to: "q")
        try expectFailure(try s.run("ann-kmeans", ["-k", "1", "-o", s.output("c.annv")], stdin: s.path("q")),
                          tool: "ann-kmeans", status: 65, mentioning: ["<stdin>", "--from"], scratch: s)
    }

    @Test func baseAndQueryDimensionsDiffer() throws {
        let s = try Scratch()
        try s.write(Self.query, to: "q.fvecs")
        let base = try s.sample("siftsmall_base.fvecs")
        try expectFailure(try s.run("ann-groundtruth", ["--base", base, "-k", "2", "-o", s.output("gt.annn"), "q.fvecs"]),
                          tool: "ann-groundtruth", status: 65, mentioning: ["dimension 128", "8"], scratch: s)
    }

    @Test func kLargerThanTheData() throws {
        let s = try Scratch()
        try s.write(Self.query, to: "q.fvecs")
        try expectFailure(try s.run("ann-kmeans", ["-k", "21", "-o", s.output("c.annv"), "q.fvecs"]),
                          tool: "ann-kmeans", status: 64, mentioning: ["21", "20"], scratch: s)
        try expectFailure(try s.run("ann-groundtruth", ["--base", "q.fvecs", "-k", "21", "-o", s.output("gt.annn"), "q.fvecs"]),
                          tool: "ann-groundtruth", status: 64, mentioning: ["21", "20"], scratch: s)
        // A base of unknown length (stdin) is only known too small once read.
        try expectFailure(try s.run("ann-groundtruth", ["--base", "-", "--base-from", "fvecs", "-k", "21", "-o", s.output("gt.annn"), "q.fvecs"],
                                    stdin: s.path("q.fvecs")),
                          tool: "ann-groundtruth", status: 64, mentioning: ["21", "20"], scratch: s)
        try expectFailure(try s.run("ann-kmeans", ["-k", "21", "--from", "fvecs", "-o", s.output("c.annv")], stdin: s.path("q.fvecs")),
                          tool: "ann-kmeans", status: 64, mentioning: ["21", "20"], scratch: s)
    }

    @Test func missingInput() throws {
        let s = try Scratch()
        try s.write(Self.query, to: "q.fvecs")
        try expectFailure(try s.run("ann-kmeans", ["-k", "2", "-o", s.output("c.annv"), "missing.fvecs"]),
                          tool: "ann-kmeans", status: 66, mentioning: ["missing.fvecs"], scratch: s)
        try expectFailure(try s.run("ann-groundtruth", ["--base", "missing.fvecs", "-k", "2", "-o", s.output("gt.annn"), "q.fvecs"]),
                          tool: "ann-groundtruth", status: 66, mentioning: ["missing.fvecs"], scratch: s)
        try expectFailure(try s.run("ann-groundtruth", ["--base", "q.fvecs", "-k", "2", "-o", s.output("gt.annn"), "missing.fvecs"]),
                          tool: "ann-groundtruth", status: 66, mentioning: ["missing.fvecs"], scratch: s)
        try expectFailure(try s.run("ann-kmeans", ["-k", "2", "-o", s.output("c.annv"), "out"]),
                          tool: "ann-kmeans", status: 66, mentioning: ["out", "directory"], scratch: s)
    }

    /// An output that cannot be created: a directory that does not exist, a path through a
    /// file, and a directory we may not write (root may write anywhere but sysfs).
    @Test func outputCannotBeCreated() throws {
        let s = try Scratch()
        try s.write(Self.query, to: "q.fvecs")
        try FileManager.default.createDirectory(atPath: s.path("locked"), withIntermediateDirectories: false)
        let locked = geteuid() == 0 ? "/sys/ann-tools-test.annv" : s.path("locked/c.annv")
        if geteuid() != 0 { chmod(s.path("locked"), 0o555) }
        defer { chmod(s.path("locked"), 0o755) }
        for target in [s.output("nodir/c.annv"), s.path("q.fvecs/c.annv"), locked] {
            try expectFailure(try s.run("ann-kmeans", ["-k", "2", "-o", target, "q.fvecs"]),
                              tool: "ann-kmeans", status: 73, mentioning: [target], scratch: s)
            try expectFailure(try s.run("ann-groundtruth", ["--base", "q.fvecs", "-k", "2", "-o", target, "q.fvecs"]),
                              tool: "ann-groundtruth", status: 73, mentioning: [target], scratch: s)
            #expect(!FileManager.default.fileExists(atPath: target))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.path("locked")).isEmpty)
        // The centroids were fine, the assignments could not be created: neither may appear.
        try expectFailure(try s.run("ann-kmeans", ["-k", "2", "-o", s.output("c.annv"), "--assignments", s.output("nodir/a.anna"), "q.fvecs"]),
                          tool: "ann-kmeans", status: 73, scratch: s)
    }

    @Test func writeFailsOnAFullDevice() throws {
        let s = try Scratch()
        try s.write(Self.query, to: "q.fvecs")
        try expectFailure(try s.run("ann-kmeans", ["-k", "2", "-o", "/dev/full", "q.fvecs"]),
                          tool: "ann-kmeans", status: 74, mentioning: ["/dev/full"], scratch: s)
        try expectFailure(try s.run("ann-groundtruth", ["--base", "q.fvecs", "-k", "2", "-o", "/dev/full", "q.fvecs"]),
                          tool: "ann-groundtruth", status: 74, mentioning: ["/dev/full"], scratch: s)
        try expectFailure(try s.run("ann-kmeans", ["-k", "2", "-o", s.output("c.annv"), "--assignments", "/dev/full", "q.fvecs"]),
                          tool: "ann-kmeans", status: 74, mentioning: ["/dev/full"], scratch: s)
    }

    @Test(arguments: [
        ["q.fvecs"],
        ["-k", "0", "q.fvecs"],
        ["-k", "x", "q.fvecs"],
        ["-k", "2", "--bogus", "q.fvecs"],
        ["-k", "2", "--quiet", "--verbose", "q.fvecs"],
        ["-k", "2", "--metric", "manhattan", "q.fvecs"],
        ["-k", "30", "--sample", "20", "q.fvecs"],
        ["-k", "2", "-o", "out/c.annv", "--assignments", "out/c.annv", "q.fvecs"],
        ["-k", "2", "-o", "out/c.ivecs", "q.fvecs"],
        ["-k", "2", "-o", "out/c.annv", "--assignments", "out/a.fvecs", "q.fvecs"],
    ])
    func kmeansUsageErrors(_ arguments: [String]) throws {
        let s = try Scratch()
        try s.write(Self.query, to: "q.fvecs")
        try expectFailure(try s.run("ann-kmeans", arguments), tool: "ann-kmeans", status: 64, scratch: s)
    }

    @Test(arguments: [
        ["-k", "2", "q.fvecs"],
        ["--base", "q.fvecs", "q.fvecs"],
        ["--base", "q.fvecs", "-k", "0", "q.fvecs"],
        ["--base", "-", "-k", "2"],
        ["--base", "-", "-k", "2", "-"],
        ["--base", "q.fvecs", "-k", "2", "--metric", "dot", "q.fvecs"],
        ["--base", "q.fvecs", "-k", "2", "-q", "-v", "q.fvecs"],
        ["--base", "q.fvecs", "-k", "2", "-o", "out/gt.bvecs", "q.fvecs"],
        ["--base", "q.fvecs", "-k", "2", "--nope", "q.fvecs"],
    ])
    func groundTruthUsageErrors(_ arguments: [String]) throws {
        let s = try Scratch()
        try s.write(Self.query, to: "q.fvecs")
        try expectFailure(try s.run("ann-groundtruth", arguments), tool: "ann-groundtruth", status: 64, scratch: s)
    }

    /// A device named by -o is written in place, not replaced through a temporary file.
    @Test func writesToADeviceInPlace() throws {
        let s = try Scratch()
        try s.write(Self.query, to: "q.fvecs")
        expectSuccess(try s.run("ann-kmeans", ["-k", "2", "-o", "/dev/null", "q.fvecs"]))
        #expect(try s.outputs().isEmpty)
    }

    /// Native headers whose numbers are out of all proportion to the file: refused as bad data,
    /// never a crash or an attempt to allocate what the header claims.
    @Test(arguments: [
        ("count 2^63", Encode.header(dim: 8, count: 1 << 63)),
        ("count 2^40", Encode.header(dim: 8, count: 1 << 40)),
        ("dim 2^32-1", Encode.header(dim: UInt32.max, count: 2)),
    ])
    func implausibleNativeHeader(_ what: String, _ header: [UInt8]) throws {
        try expectBothRefuse(header + Encode.floats((0..<16).map { Float($0) }), name: "h.annv", status: 65, mentioning: ["h.annv"])
    }
}
