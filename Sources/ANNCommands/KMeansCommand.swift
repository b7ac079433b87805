import ANNKit
import ArgumentParser

public struct KMeansCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ann-kmeans",
        abstract: "Cluster vectors with k-means and write the centroids.",
        discussion: """
            Reads vectors (INPUT, or stdin), runs Lloyd's k-means on sgemm and writes K centroids \
            as vectors. With --assignments it then streams the whole input again and writes the \
            cluster of every vector: only the training sample is ever held in memory. A sample is \
            read by position from a file (only its vectors); a sampled stdin is first copied to \
            a temporary file. With --centroids \
            it trains nothing and only writes the assignment to the given centroids, in one pass. \
            With --replicate a vector near a cluster boundary is also assigned to the nearby \
            clusters (SPANN's rule).
            """,
        version: toolVersion)

    @Option(name: .short, help: "Number of clusters (required unless --centroids).")
    var k: Int?

    @Option(name: .customLong("iters"), help: "Lloyd iterations (default \(KMeansParameters.defaultIterations)).")
    var iterations: Int?

    @Option(help: "Random seed: the same seed and input give the same centroids (default \(KMeansParameters.defaultSeed)).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Train on a uniform random sample of N vectors (read by position from a file).", valueName: "n"))
    var sample: Int?

    @Option(name: .customLong("init"), help: "Seeding: kmeans++ or random (default \(KMeansParameters.defaultInitialization.rawValue)).")
    var initialization: KMeansParameters.Initialization?

    @Option(help: ArgumentHelp("Also write the cluster of every input vector to FILE (\(formNames(AssignmentForms.self))).", valueName: "file"))
    var assignments: String?

    @Option(help: ArgumentHelp("Train nothing: assign the input to these centroids (needs --assignments; writes no centroids).", valueName: "file"))
    var centroids: String?

    @Flag(help: "Assign each vector also to nearby clusters, SPANN's way (see --replicas, --epsilon).")
    var replicate = false

    @Option(help: ArgumentHelp("With --replicate: at most R clusters per vector, among its R nearest (default \(ReplicationParameters.defaultReplicas)).", valueName: "r"))
    var replicas: Int?

    @Option(help: ArgumentHelp("With --replicate: only clusters within (1+E) times the nearest one's distance (default \(ReplicationParameters.defaultEpsilon)).", valueName: "e"))
    var epsilon: Double?

    @Option(help: ArgumentHelp("Distance: l2 (squared Euclidean), ip (inner product) or cos (cosine) (default: the one --centroids records, else l2).", valueName: "metric"))
    var metric: Metric?

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions<CentroidForms>
    @OptionGroup var verbosity: VerbosityOptions

    @Option(help: ArgumentHelp("With --centroids: assign only the i-th of N contiguous slices of the input (0-based), read by position; the assignment of the slice, ids from 0, for ann-pack --shard.", valueName: "i/N"))
    var shard: Shard?

    @Argument(help: ArgumentHelp("Vectors to cluster (default: stdin).", valueName: "input"))
    var inputPath: String?

    public init() {}

    public func validate() throws {
        if let k, k < 1 || k > Bounds.clusters { throw ValidationError("-k must be at least 1 and at most \(Bounds.clusters)") }
        if let s = sample, s > Bounds.clusters { throw ValidationError("--sample must be at most \(Bounds.clusters)") }
        if let i = iterations, i < 0 { throw ValidationError("--iters must not be negative") }
        if shard != nil && centroids == nil { throw ValidationError("--shard goes with --centroids: a slice is assigned, never trained on") }
        if shard != nil && (inputPath == nil || inputPath == "-") { throw ValidationError("--shard reads the input by position: not from stdin") }
        if let c = centroids {
            if assignments == nil { throw ValidationError("--centroids needs --assignments: it only assigns") }
            for (flag, given) in [("-o", output.output != nil), ("--to", output.to != nil), ("--iters", iterations != nil),
                                  ("--seed", seed != nil), ("--sample", sample != nil), ("--init", initialization != nil)] where given {
                throw ValidationError("\(flag) has no use with --centroids: nothing is trained and no centroids are written")
            }
            if c == assignments { throw ValidationError("--centroids and --assignments name the same file") }
        } else {
            guard let k else { throw ValidationError("missing -k (the number of clusters), or --centroids to assign to given ones") }
            if let s = sample, s < k { throw ValidationError("--sample (\(s)) must be at least -k (\(k))") }
            if assignments != nil && assignments == output.output { throw ValidationError("--assignments and -o name the same file") }
            if assignments == "-" && (output.output == nil || output.output == "-") {
                throw ValidationError("--assignments and the centroids cannot both go to stdout")
            }
        }
        if !replicate && (replicas != nil || epsilon != nil) {
            throw ValidationError("--\(replicas != nil ? "replicas" : "epsilon") needs --replicate")
        }
        if replicate && assignments == nil { throw ValidationError("--replicate needs --assignments") }
        if let r = replicas, r < 1 { throw ValidationError("--replicas must be at least 1") }
        if let e = epsilon, !(e >= 0 && e.isFinite) { throw ValidationError("--epsilon must be a number of at least 0") }
        try output.check()
        if let a = assignments { try checkForm(of: a, AssignmentForms.self, flag: "--assignments") }
    }

    public func run() throws {
        let say = Reporter(tool: "ann-kmeans", verbosity: verbosity)
        let clock = Stopwatch()
        if let c = centroids {
            try assignOnly(centroidsPath: c, say: say)
            say.info("done in \(seconds(clock.seconds))")
            return
        }
        let k = k!
        let m = metric ?? .l2
        let vectors = try ClusteringInput(path: inputPath, from: input.from, sampleSize: sample, assigning: assignments != nil)
        let reader = vectors.reader
        let d = reader.dim
        if let n = reader.count, k > n { throw ANNError.usage("-k (\(k)) is larger than the number of vectors (\(n))") }

        let centroidsOut = try openOutput(output.output)
        let assignOut = try assignments.map { try openOutput($0) }

        var p = KMeansParameters(k: k)
        p.iterations = iterations ?? p.iterations
        p.seed = seed ?? p.seed
        p.initialization = initialization ?? p.initialization
        p.metric = m
        let training = try vectors.readSample(seed: p.seed, metric: m) { say.progress("reading", done: $0, total: reader.count) }
        say.clearProgress()
        if k > training.total { throw ANNError.usage("-k (\(k)) is larger than the number of vectors (\(training.total))") }
        say.info("read \(training.total) vectors of dimension \(d) (\(reader.elementType.name)), training on \(training.count) in \(seconds(clock.seconds))")

        let model = try training.data.withUnsafeBufferPointer { data in
            try KMeans.train(data: data.baseAddress!, n: training.count, d: d, parameters: p) { event in
                switch event {
                case .seeded(let s):
                    say.info("seeded \(k) centroids (\(p.initialization.rawValue)) in \(seconds(s))")
                case .iteration(let i, let of, let objective, let s, let repaired):
                    say.progress("iteration", done: i, total: of)
                    say.info("iteration \(i)/\(of): objective \(String(format: "%.6g", objective)), \(seconds(s))"
                        + (repaired > 0 ? ", \(repaired) empty clusters repaired" : ""))
                }
            }
        }
        say.clearProgress()

        let writer = try VectorWriter(output: centroidsOut, format: output.format, dim: d, elementType: .float32, metric: m, count: k)
        try writer.write(model.centroids)
        try writer.finish()

        if let assignOut {
            let pass = AssignmentPass(model: model, dim: d, metric: m, replication: replication)
            let summary = try vectors.assignAll(pass, sample: training, to: assignOut, format: formatOf(assignments!)) {
                say.progress("assigning", done: $0, total: $1)
            }
            say.clearProgress()
            report(summary, say: say)
        }
        // Files first: a reader that closes our stdout early must not cost the other output.
        try assignOut?.commit()
        try centroidsOut.commit()
        say.info("done in \(seconds(clock.seconds))")
    }

    /// --centroids: one pass over the input, assigning it to the given centroids.
    private func assignOnly(centroidsPath: String, say: Reporter) throws {
        let cr = try VectorReader(path: centroidsPath)
        let cents = try cr.readAll()
        let kc = cents.count / cr.dim
        if let k, k != kc { throw ANNError.usage("-k (\(k)) does not match the \(kc) centroids in \(centroidsPath)") }
        let m = try Metric.resolve(recorded: cr.metric, requested: metric, source: centroidsPath)
        let reader = try VectorReader(path: inputPath, from: input.from)
        if let shard { try reader.restrict(to: shard) }
        reader.fingerprinting = true
        guard reader.dim == cr.dim else {
            throw ANNError.badData(source: reader.name, message: "dimension \(reader.dim) does not match the centroids' \(cr.dim) (\(centroidsPath))")
        }
        let out = try openOutput(assignments!)
        say.info("assigning \(reader.count.map(String.init) ?? "the") vectors of dimension \(cr.dim) (\(reader.elementType.name)) to \(kc) centroids (\(m.rawValue))")
        let pass = AssignmentPass(centroids: cents, dim: cr.dim, metric: m, replication: replication)
        let summary = try pass.assign(reader, to: out, format: formatOf(assignments!)) {
            say.progress("assigning", done: $0, total: reader.count)
        }
        say.clearProgress()
        report(summary, say: say)
        try out.commit()
    }

    /// The replication --replicate asks for, nil without it.
    private var replication: ReplicationParameters? {
        guard replicate else { return nil }
        return ReplicationParameters(replicas: replicas ?? ReplicationParameters.defaultReplicas,
                                     epsilon: epsilon.map(Float.init) ?? ReplicationParameters.defaultEpsilon)
    }

    /// -v: cluster sizes, and for a replicated assignment the copies made.
    private func report(_ s: AssignmentSummary, say: Reporter) {
        if let rep = replication {
            say.info("replicated \(s.vectors) vectors (R \(rep.replicas), epsilon \(rep.epsilon)): \(String(format: "%.3f", Double(s.pairs) / Double(max(1, s.vectors)))) clusters per vector, \(s.pairs - s.vectors) replicas made, \(s.capped) vectors in \(rep.replicas) clusters (the cap)")
        }
        let sorted = s.sizes.sorted()
        say.info("assigned \(s.vectors) vectors: cluster sizes min \(sorted.first!), median \(sorted[sorted.count / 2]), p99 \(sorted[sorted.count * 99 / 100]), max \(sorted.last!), \(s.sizes.filter { $0 == 0 }.count) empty")
    }
}
