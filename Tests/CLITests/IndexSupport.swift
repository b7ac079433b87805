import ANNKit
import Foundation
import Testing

/// A step that prepares a test (not the thing tested) failed; the issue is already recorded.
struct SetupFailed: Error, CustomStringConvertible {
    var description: String
}

/// The files of the examples Makefile's pipeline on the bundled siftsmall sample.
struct SiftIndex {
    var base: String
    var queries: String
    var centroids: String
    var assignments: String
    var index: String
    var metric: Metric
}

extension Scratch {
    /// Runs a preparatory step, which must succeed quietly.
    @discardableResult
    func setup(_ tool: String, _ arguments: [String], stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        let r = try run(tool, arguments, stdin: stdin)
        guard r.exited && r.status == 0 else {
            Issue.record("setup \(tool) \(arguments.joined(separator: " ")): status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
            throw SetupFailed(description: "\(tool) failed")
        }
        return r
    }

    /// ann-kmeans with assignments, then ann-pack, at the top of the scratch directory (so
    /// that out/ holds only what the test itself writes). Centroids as .fvecs record no metric,
    /// so ann-pack is told it.
    func siftIndex(k: Int = 16, metric: Metric = .l2, seed: Int = 1, name: String = "i", iters: Int = 8,
                   sourceLocation: SourceLocation = #_sourceLocation) throws -> SiftIndex {
        let base = FileManager.default.fileExists(atPath: path("siftsmall_base.fvecs")) ? path("siftsmall_base.fvecs") : try sample("siftsmall_base.fvecs")
        let queries = FileManager.default.fileExists(atPath: path("siftsmall_query.fvecs")) ? path("siftsmall_query.fvecs") : try sample("siftsmall_query.fvecs")
        let c = path("\(name).fvecs"), a = path("\(name).anna"), i = path("\(name).anni")
        try setup("ann-kmeans", ["-k", "\(k)", "--iters", "\(iters)", "--seed", "\(seed)", "--metric", metric.rawValue,
                                 "--assignments", a, "-o", c, base], sourceLocation: sourceLocation)
        try setup("ann-pack", ["--metric", metric.rawValue, "--centroids", c, "--assignments", a, "-o", i, base], sourceLocation: sourceLocation)
        return SiftIndex(base: base, queries: queries, centroids: c, assignments: a, index: i, metric: metric)
    }

    /// What the tests of ann-eval score read: an index, the queries' ground truth of `k`
    /// neighbours (returned), and ann-query's results r.annn and per-query stats s.tsv at
    /// `nprobe`, next to the inputs.
    func scoreInputs(k: Int, nprobe: Int) throws -> String {
        let f = try siftIndex()
        let gt = try groundTruth(f.queries, k: k)
        try setup("ann-query", ["--index", f.index, "--nprobe", "\(nprobe)", "--stats", path("s.tsv"), "-o", path("r.annn"), f.queries])
        return gt
    }

    /// ann-groundtruth of `queries` over the siftsmall base, into the top of the scratch directory.
    func groundTruth(_ queries: String, k: Int, metric: Metric = .l2, name: String = "gt.annn",
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let base = FileManager.default.fileExists(atPath: path("siftsmall_base.fvecs")) ? path("siftsmall_base.fvecs") : try sample("siftsmall_base.fvecs")
        try setup("ann-groundtruth", ["--base", base, "-k", "\(k)", "--metric", metric.rawValue, "-o", path(name), queries],
                  sourceLocation: sourceLocation)
        return path(name)
    }

    /// Runs a tool with extra environment variables, through the shell.
    func run(_ tool: String, _ arguments: [String], environment: [String: String]) throws -> RunResult {
        let assignments = environment.map { "\($0.key)='\($0.value)'" }.joined(separator: " ")
        return try run(executable: "/bin/sh", ["-c", "\(assignments) exec \"$0\" \"$@\"", Tools.path(tool)] + arguments)
    }

    /// Runs a tool under a limit on its address space (`ulimit -v`), so that an attempt to
    /// allocate what the data cannot justify fails at once instead of passing unnoticed;
    /// `stdinFile`, if given, reaches the tool through a pipe (`cat FILE |`).
    func run(_ tool: String, _ arguments: [String], addressSpaceMiB: Int, stdinFile: String? = nil) throws -> RunResult {
        let feed = stdinFile.map { "cat '\($0)' | " } ?? ""
        return try run(executable: "/bin/sh", ["-c", "ulimit -v \(addressSpaceMiB << 10) && OPENBLAS_NUM_THREADS=2 \(feed)exec \"$0\" \"$@\"",
                                               Tools.path(tool)] + arguments)
    }

    /// Runs a tool with its stdout on `device` (e.g. /dev/full), through the shell.
    func run(_ tool: String, _ arguments: [String], stdoutTo device: String) throws -> RunResult {
        try run(executable: "/bin/sh", ["-c", "exec \"$0\" \"$@\" >\(device)", Tools.path(tool)] + arguments)
    }
}

/// The per-query table of ann-query --stats, parsed by hand.
struct StatsFile {
    var header: [String]
    var rows: [[Int]]

    init(_ path: String) throws {
        let lines = String(decoding: try readBytes(path), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        header = lines.first.map { $0.split(separator: "\t").map(String.init) } ?? []
        #expect(lines.last == "", "the table ends with a newline")
        rows = lines.dropFirst().filter { !$0.isEmpty }.map { $0.split(separator: "\t").map { Int($0) ?? -1 } }
    }

    func column(_ name: String) -> [Int] {
        guard let i = header.firstIndex(of: name) else { return [] }
        return rows.map { $0[i] }
    }
}

/// Per cluster of an index, its vectors (from the assignment the index was packed with).
func members(_ a: Assignment) -> [Set<UInt32>] {
    var m = [Set<UInt32>](repeating: [], count: a.clusterCount)
    for i in 0..<a.pairCount { m[Int(a.clusters[i])].insert(a.vectors[i]) }
    return m
}

/// Recall@1 and 10-recall@10 counted here, from the rule in ann-eval(1): a result is a hit
/// when its id is a true one or its distance is no worse (ties count).
func recount(_ results: NeighborList, _ truth: NeighborList) -> (at1: Double, at10: Double) {
    let sim = truth.metric.isSimilarity
    func noWorse(_ a: Float, _ b: Float) -> Bool { sim ? a >= b : a <= b }
    var h1 = 0, h10 = 0
    let m = min(10, truth.k)
    for q in 0..<truth.count {
        let r = Array(results.row(q)), rd = Array(results.rowDistances(q)), t = Array(truth.row(q)), td = Array(truth.rowDistances(q))
        if r[0] != NeighborList.noID && (r[0] == t[0] || noWorse(rd[0], td[0])) { h1 += 1 }
        var h = 0
        for j in 0..<min(m, results.k) where r[j] != NeighborList.noID {
            if t.prefix(m).contains(r[j]) || noWorse(rd[j], td[m - 1]) { h += 1 }
        }
        h10 += min(h, m)
    }
    return (Double(h1) / Double(truth.count), Double(h10) / Double(truth.count * m))
}

/// Flips one byte in the middle of cluster `c`'s frame, found through the directory as
/// ann-formats(5) lays it out.
func damageCluster(_ c: Int, of index: String, into damaged: String) throws {
    var b = try IndexBytes(index)
    let e = b.entry(c)
    b.bytes[e.offset + e.size / 2] ^= 0x20
    try writeBytes(b.bytes, to: damaged)
}
