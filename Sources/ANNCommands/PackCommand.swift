import ANNKit
import Foundation
import ArgumentParser

public struct PackCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ann-pack",
        abstract: "Pack clustered vectors into an on-storage index of zstd frames.",
        discussion: """
            Reads the base vectors (BASE, or stdin) once, in order, with the centroids and an \
            assignment (from ann-kmeans --assignments, or one where a vector sits in several \
            clusters), and writes a packed index: each cluster's ids and vectors as one \
            independent zstd frame, a directory of frame offsets, sizes and CRC-32C checksums, \
            and the centroids (see ann-formats(5)). Vectors are bucketed in memory up to \
            --memory MiB and spilled to a temporary file beyond that, so the base is never held whole.
            """,
        version: toolVersion)

    @Option(help: ArgumentHelp("Cluster of every base vector (.ivecs, .ibin or native).", valueName: "file"))
    var assignments: String

    @Option(help: ArgumentHelp("The clustering's centroids.", valueName: "file"))
    var centroids: String

    @Option(help: ArgumentHelp("zstd compression level, 1 to 19 (higher: smaller and much slower to pack; unpacking speed barely changes).", valueName: "level"))
    var level = 3

    @Option(help: ArgumentHelp("MiB of vectors to hold in memory before spilling to a temporary file.", valueName: "mib"))
    var memory = 64

    @Option(help: ArgumentHelp("Distance the index serves: l2, ip or cos (default: the metric recorded with the centroids, else l2).", valueName: "metric"))
    var metric: Metric?

    @OptionGroup var input: InputOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the index to FILE (default: stdout).", valueName: "file"))
    var output: String?
    @OptionGroup var verbosity: VerbosityOptions

    @Argument(help: ArgumentHelp("Base vectors (default: stdin).", valueName: "base"))
    var basePath: String?

    public init() {}

    public func validate() throws {
        if level < 1 || level > 19 { throw ValidationError("--level must be between 1 and 19") }
        if memory < 1 || memory > Bounds.memoryMiB { throw ValidationError("--memory must be at least 1 and at most \(Bounds.memoryMiB) (MiB)") }
        if let o = output { try checkForm(of: o, allowed: [.native], what: "a packed index", flag: "-o") }
    }

    public func run() throws {
        let say = Reporter(tool: "ann-pack", verbosity: verbosity)
        let clock = Stopwatch()
        let cr = try VectorReader(path: centroids)
        let cents = try cr.readAll()
        let k = cents.count / cr.dim
        let m = try resolveMetric(recorded: cr.metric, requested: metric, what: centroids)
        let assignment = try Assignment.load(assignments, clusterCount: k)
        guard assignment.clusterCount == k else {
            throw ANNError.badData(source: assignments, message: "assignment is for \(assignment.clusterCount) clusters, the centroids are \(k)")
        }
        let base = try VectorReader(path: basePath, from: input.from)
        guard base.dim == cr.dim else {
            throw ANNError.badData(source: base.name, message: "base dimension \(base.dim) does not match the centroids' \(cr.dim)")
        }
        base.fingerprinting = true
        let centroidData = Fingerprint.storedCentroids(cents, dim: cr.dim, metric: m)
        // A native assignment names the clustering and base it was made for; a foreign one
        // names neither, so the nearest-centroid sample is all that can vouch for it.
        var sample: NearestCentroidCheck?
        if let id = assignment.identity {
            try id.check(clustering: Fingerprint.clustering(storedCentroids: centroidData, dim: cr.dim, metric: m),
                         source: assignments, centroidsName: centroids)
            if let n = base.count { try id.check(baseCount: n, source: assignments, baseName: base.name) }
        } else {
            sample = NearestCentroidCheck(storedCentroids: centroidData, dim: cr.dim, metric: m)
        }
        let out = try OutputFile(path: output)
        let writer = IndexWriter(output: out, dim: base.dim, type: base.elementType, metric: m, centroids: centroidData,
                                 level: level, budget: memory << 20)
        let block = base.blockRecords(preferred: 16384)
        let rb = base.recordBytes
        var buf = [UInt8](repeating: 0, count: block * rb)
        var seen = 0
        var p = 0
        let pairs = assignment.pairCount
        while true {
            let n = try buf.withUnsafeMutableBytes { try base.readRaw(into: $0.baseAddress!, maxCount: block) }
            if n == 0 { break }
            try buf.withUnsafeBytes { b in
                for i in 0..<n {
                    let id = seen + i
                    while p < pairs && Int(assignment.vectors[p]) < id { p += 1 }
                    var e = p
                    while e < pairs && Int(assignment.vectors[e]) == id { e += 1 }
                    guard e > p else {
                        throw ANNError.badData(source: assignments, message: "base vector \(id) is in no cluster (the assignment does not match the base)")
                    }
                    try writer.add(id: id, raw: b.baseAddress! + i * rb, clusters: assignment.clusters[p..<e])
                    if sample != nil && !sample!.isFull {
                        sample!.add(raw: b.baseAddress! + i * rb, type: base.elementType, clusters: assignment.clusters[p..<e])
                        if sample!.isFull { try sample!.verify(source: assignments) }
                    }
                    p = e
                }
            }
            seen += n
            say.progress("bucketing", done: seen, total: base.count)
        }
        if p < pairs {
            throw ANNError.badData(source: assignments, message: "assigns vector \(assignment.vectors[p]), but the base holds only \(seen) vectors")
        }
        say.clearProgress()
        say.info("read \(seen) vectors of dimension \(base.dim) (\(base.elementType.name)) in \(seconds(clock.seconds))")
        guard let baseFingerprint = base.fingerprint else {
            throw ANNError.badData(source: base.name, message: "the base was not read to its end")
        }
        if let id = assignment.identity {
            try id.check(baseCount: seen, fingerprint: baseFingerprint, source: assignments, baseName: base.name)
        } else if let sample, !sample.isFull {
            try sample.verify(source: assignments)
        }
        let r = try writer.finish(baseFingerprint: baseFingerprint) { say.progress("clusters packed", done: $0, total: k) }
        say.clearProgress()
        try out.commit()
        let sorted = r.clusterSizes.sorted()
        say.info("\(r.clusters) clusters, \(r.vectors) vectors, \(r.copies - r.vectors) duplicates (\(String(format: "%.3f", Double(r.copies) / Double(max(1, r.vectors)))) copies per vector)")
        say.info("cluster sizes: min \(sorted.first ?? 0), median \(sorted.isEmpty ? 0 : sorted[sorted.count / 2]), p99 \(sorted.isEmpty ? 0 : sorted[sorted.count * 99 / 100]), max \(sorted.last ?? 0), \(sorted.filter { $0 == 0 }.count) empty")
        say.info("frames: \(r.rawBytes) bytes before zstd -\(level), \(r.packedBytes) after (\(String(format: "%.1f%%", 100 * Double(r.packedBytes) / Double(max(1, r.rawBytes))))); index \(r.fileBytes) bytes, \(String(format: "%.2f", Double(r.fileBytes) / Double(max(1, r.vectors)))) bytes per vector")
        say.info("done in \(seconds(clock.seconds))")
    }
}

/// The metric of an operation: what a file recorded, unless the user asked for another.
func resolveMetric(recorded: Metric?, requested: Metric?, what: String) throws -> Metric {
    if let r = recorded, let q = requested, r != q {
        throw ANNError.usage("\(what) was made for --metric \(r.rawValue), not \(q.rawValue)")
    }
    return recorded ?? requested ?? .l2
}
