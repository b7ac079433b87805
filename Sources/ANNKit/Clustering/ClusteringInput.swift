/// The vectors a clustering is trained on and then assigned: read once for the training
/// sample (only the sample's records, by position, from a file), and a second time when the
/// sample leaves some out and every vector is to be assigned. Standard input cannot be read
/// by position or twice, so a sampled stdin is copied to a temporary file first
/// (`StdinSpool`), and the copy is removed with this value.
public final class ClusteringInput {
    /// The first pass, for the training sample.
    public let reader: VectorReader
    /// Vectors the sample is drawn from; nil keeps them all.
    public let sampleSize: Int?
    private let path: String?
    private let from: FileFormat?
    private let name: String?
    private let spool: StdinSpool?

    /// Opens `path` (nil or "-" for stdin; `from` names its form where the name cannot). With
    /// `assigning`, every vector will be assigned after training: the input is fingerprinted
    /// for the assignment's identity. A sampled stdin is spooled.
    public init(path: String?, from: FileFormat?, sampleSize: Int?, assigning: Bool) throws {
        let stdin = path == nil || path == "-"
        // A sampled stdin is spooled: the sample is then read by position, as from a file, and
        // the spool serves the second pass.
        spool = stdin && sampleSize != nil ? try StdinSpool() : nil
        self.path = spool?.path ?? path
        self.from = from
        name = spool == nil ? nil : "<stdin>"
        reader = try VectorReader(path: self.path, from: from, name: name)
        reader.fingerprinting = assigning
        // A sample at least as large as the input is the whole input.
        if let s = sampleSize, let n = reader.count, s >= n { self.sampleSize = nil } else { self.sampleSize = sampleSize }
    }

    /// Reads the training vectors: all of them, or a uniform sample of `sampleSize` drawn with
    /// `seed` (in input order), in the form `metric` compares them. `progress` gets the vectors
    /// read so far.
    public func readSample(seed: UInt64, metric: Metric, progress: (Int) -> Void = { _ in }) throws -> Sampler.Sample {
        var sample = try Sampler.read(reader, size: sampleSize, seed: seed, progress: progress)
        metric.prepare(&sample.data, d: reader.dim)
        return sample
    }

    /// Assigns every input vector with `pass` and writes the assignment: from `sample` (read
    /// by `readSample`) when it holds them all, else by streaming the input again. `progress`
    /// gets the vectors done of the second pass and their total where it is known.
    public func assignAll(_ pass: AssignmentPass, sample: Sampler.Sample, to output: OutputFile, format: FileFormat,
                          progress: (Int, Int?) -> Void = { _, _ in }) throws -> AssignmentSummary {
        guard sampleSize != nil else { return try pass.assign(sample, of: reader, to: output, format: format) }
        let again = try VectorReader(path: path, from: from, name: name)
        return try pass.assign(again, to: output, format: format) { progress($0, again.count) }
    }
}
