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
            run reading stdin keeps a temporary copy of it for that second pass.
            """,
        version: toolVersion)

    @Option(name: .short, help: "Number of clusters.")
    var k: Int

    @Option(name: .customLong("iters"), help: "Lloyd iterations.")
    var iterations = 20

    @Option(help: "Random seed: the same seed and input give the same centroids.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Train on a uniform random sample of N vectors.", valueName: "n"))
    var sample: Int?

    @Option(name: .customLong("init"), help: "Seeding: kmeans++ or random.")
    var initialization = KMeansParameters.Initialization.random

    @Option(help: ArgumentHelp("Also write the cluster of every input vector to FILE (.ivecs, .ibin or native).", valueName: "file"))
    var assignments: String?

    @OptionGroup var metric: MetricOptions
    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var verbosity: VerbosityOptions

    @Argument(help: ArgumentHelp("Vectors to cluster (default: stdin).", valueName: "input"))
    var inputPath: String?

    public init() {}

    public func validate() throws {
        if k < 1 { throw ValidationError("-k must be at least 1") }
        if iterations < 0 { throw ValidationError("--iters must not be negative") }
        if let s = sample, s < k { throw ValidationError("--sample (\(s)) must be at least -k (\(k))") }
        if assignments != nil && assignments == output.output { throw ValidationError("--assignments and -o name the same file") }
        if assignments == "-" && (output.output == nil || output.output == "-") {
            throw ValidationError("--assignments and the centroids cannot both go to stdout")
        }
        try output.check(allowed: [.native, .fvecs, .fbin], what: "centroids")
        if let a = assignments { try checkForm(of: a, allowed: [.native, .ivecs, .ibin], what: "an assignment", flag: "--assignments") }
    }

    public func run() throws {
        let say = Reporter(tool: "ann-kmeans", verbosity: verbosity)
        let clock = Stopwatch()
        let fromStdin = inputPath == nil || inputPath == "-"
        let spool = fromStdin && sample != nil && assignments != nil ? try StdinSpool() : nil
        let path = spool?.path ?? inputPath
        let shownName = spool == nil ? nil : "<stdin>"
        let reader = try VectorReader(path: path, from: input.from, name: shownName)
        let d = reader.dim
        if let n = reader.count, k > n { throw ANNError.usage("-k (\(k)) is larger than the number of vectors (\(n))") }

        let centroidsOut = try OutputFile(path: output.output)
        let assignOut = try assignments.map { try OutputFile(path: $0) }

        var size = sample
        if let s = size, let n = reader.count, s >= n { size = nil }
        var training = try Sampler.read(reader, size: size, seed: seed) { say.progress("reading", done: $0, total: reader.count) }
        say.clearProgress()
        if k > training.total { throw ANNError.usage("-k (\(k)) is larger than the number of vectors (\(training.total))") }
        say.info("read \(training.total) vectors of dimension \(d) (\(reader.elementType.name)), training on \(training.count) in \(seconds(clock.seconds))")
        if metric.metric == .cos {
            training.data.withUnsafeMutableBufferPointer { Kernels.normalizeRows($0.baseAddress!, n: training.count, d: d) }
        }

        var p = KMeansParameters(k: k)
        p.iterations = iterations
        p.seed = seed
        p.initialization = initialization
        p.metric = metric.metric
        let model = try training.data.withUnsafeBufferPointer { data in
            try KMeans.train(data: data.baseAddress!, n: training.count, d: d, parameters: p) { event in
                switch event {
                case .seeded(let s):
                    say.info("seeded \(k) centroids (\(initialization.rawValue)) in \(seconds(s))")
                case .iteration(let i, let of, let objective, let s, let repaired):
                    say.progress("iteration", done: i, total: of)
                    say.info("iteration \(i)/\(of): objective \(String(format: "%.6g", objective)), \(seconds(s))"
                        + (repaired > 0 ? ", \(repaired) empty clusters repaired" : ""))
                }
            }
        }
        say.clearProgress()
        let centroids = model.centroids

        let writer = try VectorWriter(output: centroidsOut, format: output.format, dim: d, elementType: .float32, metric: metric.metric, count: k)
        try writer.write(centroids)
        try writer.finish()

        if let assignOut {
            let sizes: [Int]
            if size == nil {
                sizes = try assignInMemory(training, model: model, d: d, to: assignOut)
            } else {
                let again = try VectorReader(path: path, from: input.from, name: shownName)
                sizes = try assignStreaming(again, model: model, d: d, to: assignOut, say: say)
            }
            let sorted = sizes.sorted()
            say.info("assigned \(sizes.reduce(0, +)) vectors: cluster sizes min \(sorted.first!), median \(sorted[sorted.count / 2]), max \(sorted.last!), \(sizes.filter { $0 == 0 }.count) empty")
        }
        // Files first: a reader that closes our stdout early must not cost the other output.
        try assignOut?.commit()
        try centroidsOut.commit()
        say.info("done in \(seconds(clock.seconds))")
    }

    private func assignInMemory(_ training: Sampler.Sample, model: KMeans.Result, d: Int, to out: OutputFile) throws -> [Int] {
        let n = training.count
        var labels = [UInt32](repeating: 0, count: n)
        var dists = [Float](repeating: 0, count: n)
        training.data.withUnsafeBufferPointer { data in
            model.labels.withUnsafeBufferPointer { hints in
                KMeans.assign(data: data.baseAddress!, n: n, d: d, centroids: model.centroids, k: k, metric: metric.metric,
                              projection: model.projection, hints: hints.baseAddress, labels: &labels, distances: &dists)
            }
        }
        let w = try AssignmentWriter(output: out, format: formatOf(assignments!), clusterCount: k, pairCount: n)
        var sizes = [Int](repeating: 0, count: k)
        for i in 0..<n {
            try w.append(vector: i, cluster: Int(labels[i]))
            sizes[Int(labels[i])] += 1
        }
        try w.finish()
        return sizes
    }

    private func assignStreaming(_ reader: VectorReader, model: KMeans.Result, d: Int, to out: OutputFile, say: Reporter) throws -> [Int] {
        let block = 65536
        var buf = [Float](repeating: 0, count: block * d)
        var labels = [UInt32](repeating: 0, count: block)
        var dists = [Float](repeating: 0, count: block)
        let w = try AssignmentWriter(output: out, format: formatOf(assignments!), clusterCount: k, pairCount: reader.count)
        var sizes = [Int](repeating: 0, count: k)
        var seen = 0
        while true {
            let n = try buf.withUnsafeMutableBufferPointer { try reader.read(into: $0.baseAddress!, maxCount: block) }
            if n == 0 { break }
            buf.withUnsafeMutableBufferPointer { b in
                if metric.metric == .cos { Kernels.normalizeRows(b.baseAddress!, n: n, d: d) }
                KMeans.assign(data: b.baseAddress!, n: n, d: d, centroids: model.centroids, k: k, metric: metric.metric,
                              projection: model.projection, labels: &labels, distances: &dists)
            }
            for i in 0..<n {
                try w.append(vector: seen + i, cluster: Int(labels[i]))
                sizes[Int(labels[i])] += 1
            }
            seen += n
            say.progress("assigning", done: seen, total: reader.count)
        }
        say.clearProgress()
        try w.finish()
        return sizes
    }
}
