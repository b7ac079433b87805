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

    @Option(help: ArgumentHelp("Cluster of every base vector (\(formNames(AssignmentForms.self))).", valueName: "file"))
    var assignments: String

    @Option(help: ArgumentHelp("The clustering's centroids.", valueName: "file"))
    var centroids: String

    @Option(help: ArgumentHelp("zstd compression level, 1 to 19 (higher: smaller and much slower to pack; unpacking speed barely changes).", valueName: "level"))
    var level = IndexPacker.defaultLevel

    @Option(help: ArgumentHelp("MiB of vectors to hold in memory before spilling to a temporary file.", valueName: "mib"))
    var memory = IndexPacker.defaultMemoryMiB

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
        let m = try Metric.resolve(recorded: cr.metric, requested: metric, source: centroids)
        let assignment = try Assignment.load(assignments, clusterCount: k)
        let packer = try IndexPacker(centroids: cents, dim: cr.dim, metric: m, assignment: assignment,
                                     assignmentName: assignments, centroidsName: centroids)
        let base = try VectorReader(path: basePath, from: input.from)
        try packer.check(base: base)
        let out = try openOutput(output)
        let writer = IndexWriter(output: out, dim: base.dim, type: base.elementType, metric: m, centroids: packer.storedCentroids,
                                 level: level, budget: memory << 20)
        let r = try packer.pack(base, into: writer) { event in
            switch event {
            case .bucketed(let n, let total): say.progress("bucketing", done: n, total: total)
            case .read(let n):
                say.clearProgress()
                say.info("read \(n) vectors of dimension \(base.dim) (\(base.elementType.name)) in \(seconds(clock.seconds))")
            case .packed(let c, let total): say.progress("clusters packed", done: c, total: total)
            }
        }
        say.clearProgress()
        try out.commit()
        let sorted = r.clusterSizes.sorted()
        say.info("\(r.clusters) clusters, \(r.vectors) vectors, \(r.copies - r.vectors) duplicates (\(String(format: "%.3f", Double(r.copies) / Double(max(1, r.vectors)))) copies per vector)")
        say.info("cluster sizes: min \(sorted.first ?? 0), median \(sorted.isEmpty ? 0 : sorted[sorted.count / 2]), p99 \(sorted.isEmpty ? 0 : sorted[sorted.count * 99 / 100]), max \(sorted.last ?? 0), \(sorted.filter { $0 == 0 }.count) empty")
        say.info("frames: \(r.rawBytes) bytes before zstd -\(level), \(r.packedBytes) after (\(String(format: "%.1f%%", 100 * Double(r.packedBytes) / Double(max(1, r.rawBytes))))); index \(r.fileBytes) bytes, \(String(format: "%.2f", Double(r.fileBytes) / Double(max(1, r.vectors)))) bytes per vector")
        say.info("done in \(seconds(clock.seconds))")
    }
}
