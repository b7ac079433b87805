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
            and the centroids (see ann-formats(5)). Vectors are staged in memory up to \
            --memory MiB, then grouped by cluster and spilled to a temporary file, so the base is never held whole.
            """,
        version: toolVersion)

    @Option(help: ArgumentHelp("Cluster of every base vector (\(formNames(AssignmentForms.self))).", valueName: "file"))
    var assignments: String?

    @Option(help: ArgumentHelp("The clustering's centroids.", valueName: "file"))
    var centroids: String?

    @Option(help: ArgumentHelp("Pack only the i-th of N contiguous slices of the base (0-based), read by position, with the assignment of that slice (ann-kmeans --centroids --shard): the index of the slice. --merge joins the N indexes.", valueName: "i/N"))
    var shard: Shard?

    @Flag(help: "Merge the indexes of the slices of one base (the arguments, in slice order; --shard) into the index of the whole base, byte for byte the one-process pack; --base names the base, read once for its fingerprint.")
    var merge = false

    @Option(help: ArgumentHelp("With --merge: the base the slices were packed from.", valueName: "file"))
    var base: String?

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

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Base vectors (default: stdin); with --merge, the indexes of the slices.", valueName: "base"))
    var inputs: [String] = []
    var basePath: String? { inputs.first }

    public init() {}

    public func validate() throws {
        try checkInputs(inputs, merge: merge, parts: "indexes of the slices", single: "one base (several indexes go with --merge)")
        if let o = output { try checkForm(of: o, allowed: [.native], what: "a packed index", flag: "-o") }
        if merge {
            if assignments != nil || centroids != nil || shard != nil || metric != nil || input.from != nil {
                throw ValidationError("--merge takes the slices' indexes and --base alone: not --assignments, --centroids, --shard, --metric or --from")
            }
            if base == nil || base == "-" { throw ValidationError("--merge needs --base, the file the slices were packed from") }
            return
        }
        if base != nil { throw ValidationError("--base goes with --merge; the base to pack is the argument") }
        if assignments == nil { throw ValidationError("missing --assignments") }
        if centroids == nil { throw ValidationError("missing --centroids") }
        if shard != nil && (basePath == nil || basePath == "-") { throw ValidationError("--shard reads the base by position: not from stdin") }
        if level < 1 || level > 19 { throw ValidationError("--level must be between 1 and 19") }
        if memory < 1 || memory > Bounds.memoryMiB { throw ValidationError("--memory must be at least 1 and at most \(Bounds.memoryMiB) (MiB)") }
    }

    public func run() throws {
        let say = Reporter(tool: "ann-pack", verbosity: verbosity)
        let clock = Stopwatch()
        if merge {
            let parts = try inputs.map { try PackedIndex(path: $0) }
            let out = try openOutput(output)
            let r = try IndexMerger.write(parts: parts, base: try VectorReader(path: base!), to: out) {
                say.progress("clusters merged", done: $0, total: parts[0].clusterCount)
            }
            say.clearProgress()
            try out.commit()
            say.info("merged \(parts.count) slices: \(r.clusters) clusters, \(r.vectors) vectors, index \(r.fileBytes) bytes in \(seconds(clock.seconds))")
            return
        }
        let assignments = self.assignments!, centroids = self.centroids!
        let cr = try VectorReader(path: centroids)
        let cents = try cr.readAll()
        let k = cents.count / cr.dim
        let m = try Metric.resolve(recorded: cr.metric, requested: metric, source: centroids)
        let assignment = try Assignment.load(assignments, clusterCount: k)
        let packer = try IndexPacker(centroids: cents, dim: cr.dim, metric: m, assignment: assignment,
                                     assignmentName: assignments, centroidsName: centroids)
        let base = try VectorReader(path: basePath, from: input.from)
        if let shard { try base.restrict(to: shard) }
        try packer.check(base: base)
        let out = try openOutput(output)
        let writer = IndexWriter(output: out, dim: base.dim, type: base.elementType, metric: m, centroids: packer.storedCentroids,
                                 level: level, budget: memory << 20)
        let r = try packer.pack(base, into: writer) { event in
            switch event {
            case .staged(let n, let total): say.progress("reading", done: n, total: total)
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
