import ANNKit
import ArgumentParser

public struct KMeansCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ann-kmeans",
        abstract: "Cluster vectors with k-means and write the centroids.",
        discussion: """
            Reads vectors (INPUT, or stdin), runs Lloyd's k-means on sgemm and writes K centroids \
            as vectors. With --assignments it then streams the whole input again and writes the \
            cluster of every vector: only the training sample is ever held in memory. A sampled \
            run reading stdin keeps a temporary copy of it for that second pass. With --centroids \
            it trains nothing and only writes the assignment to the given centroids, in one pass. \
            With --replicate a vector near a cluster boundary is also assigned to the nearby \
            clusters (SPANN's rule).
            """,
        version: toolVersion)

    @Option(name: .short, help: "Number of clusters (required unless --centroids).")
    var k: Int?

    @Option(name: .customLong("iters"), help: "Lloyd iterations (default 20).")
    var iterations: Int?

    @Option(help: "Random seed: the same seed and input give the same centroids (default 1).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Train on a uniform random sample of N vectors.", valueName: "n"))
    var sample: Int?

    @Option(name: .customLong("init"), help: "Seeding: kmeans++ or random (default random).")
    var initialization: KMeansParameters.Initialization?

    @Option(help: ArgumentHelp("Also write the cluster of every input vector to FILE (.ivecs, .ibin or native).", valueName: "file"))
    var assignments: String?

    @Option(help: ArgumentHelp("Train nothing: assign the input to these centroids (needs --assignments; writes no centroids).", valueName: "file"))
    var centroids: String?

    @Flag(help: "Assign each vector also to nearby clusters, SPANN's way (see --replicas, --epsilon).")
    var replicate = false

    @Option(help: ArgumentHelp("With --replicate: at most R clusters per vector, among its R nearest (default 8).", valueName: "r"))
    var replicas: Int?

    @Option(help: ArgumentHelp("With --replicate: only clusters within (1+E) times the nearest one's distance (default 0.1).", valueName: "e"))
    var epsilon: Double?

    @Option(help: ArgumentHelp("Distance: l2 (squared Euclidean), ip (inner product) or cos (cosine) (default: the one --centroids records, else l2).", valueName: "metric"))
    var metric: Metric?

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var verbosity: VerbosityOptions

    @Argument(help: ArgumentHelp("Vectors to cluster (default: stdin).", valueName: "input"))
    var inputPath: String?

    public init() {}

    public func validate() throws {
        if let k, k < 1 || k > Bounds.clusters { throw ValidationError("-k must be at least 1 and at most \(Bounds.clusters)") }
        if let s = sample, s > Bounds.clusters { throw ValidationError("--sample must be at most \(Bounds.clusters)") }
        if let i = iterations, i < 0 { throw ValidationError("--iters must not be negative") }
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
        try output.check(allowed: [.native, .fvecs, .fbin], what: "centroids")
        if let a = assignments { try checkForm(of: a, allowed: [.native, .ivecs, .ibin], what: "an assignment", flag: "--assignments") }
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
        let fromStdin = inputPath == nil || inputPath == "-"
        let spool = fromStdin && sample != nil && assignments != nil ? try StdinSpool() : nil
        let path = spool?.path ?? inputPath
        let shownName = spool == nil ? nil : "<stdin>"
        let reader = try VectorReader(path: path, from: input.from, name: shownName)
        reader.fingerprinting = assignments != nil
        let d = reader.dim
        if let n = reader.count, k > n { throw ANNError.usage("-k (\(k)) is larger than the number of vectors (\(n))") }

        let centroidsOut = try OutputFile(path: output.output)
        let assignOut = try assignments.map { try OutputFile(path: $0) }

        var size = sample
        if let s = size, let n = reader.count, s >= n { size = nil }
        var training = try Sampler.read(reader, size: size, seed: seed ?? 1) { say.progress("reading", done: $0, total: reader.count) }
        say.clearProgress()
        if k > training.total { throw ANNError.usage("-k (\(k)) is larger than the number of vectors (\(training.total))") }
        say.info("read \(training.total) vectors of dimension \(d) (\(reader.elementType.name)), training on \(training.count) in \(seconds(clock.seconds))")
        if m == .cos {
            training.data.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: training.count, d: d) }
        }

        var p = KMeansParameters(k: k)
        p.iterations = iterations ?? p.iterations
        p.seed = seed ?? p.seed
        p.initialization = initialization ?? p.initialization
        p.metric = m
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
            let clustering = Fingerprint.clustering(centroids: model.centroids, dim: d, metric: m)
            if replicate {
                let rep = replication(model.centroids, d: d, metric: m)
                let w = try AssignmentWriter(output: assignOut, format: formatOf(assignments!), clusterCount: k, pairCount: nil)
                var tally = Tally(k: k, cap: min(rep.replicas, rep.clusterCount))
                if size == nil {
                    // Already in memory (and at unit length for cos): assigned block by block.
                    let block = 65536
                    try training.data.withUnsafeBufferPointer { data in
                        for first in stride(from: 0, to: training.count, by: block) {
                            let lists = try rep.assign(data.baseAddress! + first * d, count: min(block, training.count - first), projection: model.projection, firstID: first)
                            try tally.write(lists, first: first, to: w)
                        }
                    }
                    try w.finish(identity: AssignmentIdentity(clustering: clustering, base: reader))
                } else {
                    let again = try VectorReader(path: path, from: input.from, name: shownName)
                    again.fingerprinting = true
                    try rep.assign(again, projection: model.projection, emit: { try tally.write($1, first: $0, to: w) },
                                   progress: { say.progress("assigning", done: $0, total: again.count) })
                    say.clearProgress()
                    try w.finish(identity: AssignmentIdentity(clustering: clustering, base: again))
                }
                tally.report(say, replication: rep)
            } else {
                let sizes: [Int]
                if size == nil {
                    sizes = try assignInMemory(training, model: model, k: k, d: d, metric: m, to: assignOut,
                                               identity: AssignmentIdentity(clustering: clustering, base: reader))
                } else {
                    let again = try VectorReader(path: path, from: input.from, name: shownName)
                    sizes = try assignStreaming(again, centroids: model.centroids, projection: model.projection, k: k, metric: m,
                                                clustering: clustering, to: assignOut, say: say)
                }
                Tally(sizes: sizes).report(say, replication: nil)
            }
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
        let m = try resolveMetric(recorded: cr.metric, requested: metric, what: centroidsPath)
        let reader = try VectorReader(path: inputPath, from: input.from)
        reader.fingerprinting = true
        guard reader.dim == cr.dim else {
            throw ANNError.badData(source: reader.name, message: "dimension \(reader.dim) does not match the centroids' \(cr.dim) (\(centroidsPath))")
        }
        let out = try OutputFile(path: assignments!)
        say.info("assigning \(reader.count.map(String.init) ?? "the") vectors of dimension \(cr.dim) (\(reader.elementType.name)) to \(kc) centroids (\(m.rawValue))")
        // As ann-pack stores them (unit length for ip and cos), and the identity they give.
        let c = Fingerprint.storedCentroids(cents, dim: cr.dim, metric: m)
        let clustering = Fingerprint.clustering(storedCentroids: c, dim: cr.dim, metric: m)
        if replicate {
            let rep = replication(c, d: cr.dim, metric: m)
            let w = try AssignmentWriter(output: out, format: formatOf(assignments!), clusterCount: kc, pairCount: nil)
            var tally = Tally(k: kc, cap: min(rep.replicas, rep.clusterCount))
            try rep.assign(reader, emit: { try tally.write($1, first: $0, to: w) },
                           progress: { say.progress("assigning", done: $0, total: reader.count) })
            say.clearProgress()
            try w.finish(identity: AssignmentIdentity(clustering: clustering, base: reader))
            tally.report(say, replication: rep)
        } else {
            let sizes = try assignStreaming(reader, centroids: c, projection: nil, k: kc, metric: m,
                                            clustering: clustering, to: out, say: say)
            Tally(sizes: sizes).report(say, replication: nil)
        }
        try out.commit()
    }

    private func replication(_ centroids: [Float], d: Int, metric m: Metric) -> Replication {
        Replication(centroids: centroids, dim: d, metric: m, replicas: replicas ?? 8, epsilon: Float(epsilon ?? 0.1))
    }

    private func assignInMemory(_ training: Sampler.Sample, model: KMeans.Result, k: Int, d: Int, metric m: Metric, to out: OutputFile,
                                identity: AssignmentIdentity) throws -> [Int] {
        let n = training.count
        var labels = [UInt32](repeating: 0, count: n)
        var dists = [Float](repeating: 0, count: n)
        try training.data.withUnsafeBufferPointer { data in
            try model.labels.withUnsafeBufferPointer { hints in
                try KMeans.assign(data: data.baseAddress!, n: n, d: d, centroids: model.centroids, k: k, metric: m,
                              projection: model.projection, hints: hints.baseAddress, labels: &labels, distances: &dists)
            }
        }
        let w = try AssignmentWriter(output: out, format: formatOf(assignments!), clusterCount: k, pairCount: n)
        var sizes = [Int](repeating: 0, count: k)
        for i in 0..<n {
            try w.append(vector: i, cluster: Int(labels[i]))
            sizes[Int(labels[i])] += 1
        }
        try w.finish(identity: identity)
        return sizes
    }

    /// `reader` must not have been read yet: the pass fingerprints the base for the identity.
    private func assignStreaming(_ reader: VectorReader, centroids: [Float], projection: Projection?, k: Int, metric m: Metric,
                                 clustering: UInt64, to out: OutputFile, say: Reporter) throws -> [Int] {
        reader.fingerprinting = true
        let d = reader.dim
        let block = reader.blockRecords(preferred: 65536)
        var buf = [Float](repeating: 0, count: block * d)
        var labels = [UInt32](repeating: 0, count: block)
        var dists = [Float](repeating: 0, count: block)
        let w = try AssignmentWriter(output: out, format: formatOf(assignments!), clusterCount: k, pairCount: reader.count)
        var sizes = [Int](repeating: 0, count: k)
        var seen = 0
        while true {
            let n = try buf.withUnsafeMutableBufferPointer { try reader.read(into: $0.baseAddress!, maxCount: block) }
            if n == 0 { break }
            try buf.withUnsafeMutableBufferPointer { b in
                if m == .cos { Kernels.normalizeRows(b.baseAddress!, n: n, d: d) }
                try KMeans.assign(data: b.baseAddress!, n: n, d: d, centroids: centroids, k: k, metric: m,
                                  projection: projection, firstID: seen, labels: &labels, distances: &dists)
            }
            for i in 0..<n {
                try w.append(vector: seen + i, cluster: Int(labels[i]))
                sizes[Int(labels[i])] += 1
            }
            seen += n
            say.progress("assigning", done: seen, total: reader.count)
        }
        say.clearProgress()
        try w.finish(identity: AssignmentIdentity(clustering: clustering, base: reader))
        return sizes
    }
}

/// What an assignment came to, for -v: cluster sizes, and for a replicated one the copies.
private struct Tally {
    var sizes: [Int]
    var vectors = 0
    var pairs = 0
    /// Vectors given as many clusters as --replicas allows.
    var capped = 0
    var cap = 0

    init(k: Int, cap: Int) {
        sizes = [Int](repeating: 0, count: k)
        self.cap = cap
    }

    init(sizes: [Int]) {
        self.sizes = sizes
        vectors = sizes.reduce(0, +)
        pairs = vectors
    }

    mutating func write(_ lists: [[UInt32]], first: Int, to w: AssignmentWriter) throws {
        for (i, list) in lists.enumerated() {
            for c in list {
                try w.append(vector: first + i, cluster: Int(c))
                sizes[Int(c)] += 1
            }
            pairs += list.count
            if list.count == cap { capped += 1 }
        }
        vectors += lists.count
    }

    func report(_ say: Reporter, replication: Replication?) {
        let sorted = sizes.sorted()
        if let rep = replication {
            say.info("replicated \(vectors) vectors (R \(rep.replicas), epsilon \(rep.epsilon)): \(String(format: "%.3f", Double(pairs) / Double(max(1, vectors)))) clusters per vector, \(pairs - vectors) replicas made, \(capped) vectors in \(rep.replicas) clusters (the cap)")
        }
        say.info("assigned \(vectors) vectors: cluster sizes min \(sorted.first!), median \(sorted[sorted.count / 2]), p99 \(sorted[sorted.count * 99 / 100]), max \(sorted.last!), \(sizes.filter { $0 == 0 }.count) empty")
    }
}
