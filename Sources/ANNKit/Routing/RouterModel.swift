import Dispatch

/// A learned cluster router (ann-formats(5), ANNM): a 3-layer MLP over the normalised query,
/// its K outputs added to the centroid term −‖q − c‖²/T. With the last layer at zero the
/// model *is* centroid routing (at temperature T), so training starts from the baseline and
/// can only be kept if it beats it.
public struct RouterModel: ClusterRouter {
    public var dim: Int
    public var clusterCount: Int
    public var hidden1: Int
    public var hidden2: Int
    public var metric: Metric
    /// The clustering the model routes for (`Fingerprint.clustering`).
    public var fingerprint: UInt64
    /// Weight of the centroid term: 1/T, or 0 for a pure MLP.
    public var centroidWeight: Float
    /// Per-dimension input normalisation: x̂ = (x − mean) · scale.
    public var mean: [Float]
    public var scale: [Float]
    /// Row-major weights: W1 (h1 × d), W2 (h2 × h1), W3 (K × h2), and biases.
    public var w1: [Float], b1: [Float]
    public var w2: [Float], b2: [Float]
    public var w3: [Float], b3: [Float]
    /// `K × d` centroids of the clustering (not stored: they come from the index).
    public var centroids: [Float]
    var centroidNorms: [Float]

    public init(dim: Int, clusterCount: Int, hidden1: Int, hidden2: Int, metric: Metric, centroids: [Float], fingerprint: UInt64,
                centroidWeight: Float, mean: [Float], scale: [Float], seed: UInt64) {
        self.dim = dim
        self.clusterCount = clusterCount
        self.hidden1 = hidden1
        self.hidden2 = hidden2
        self.metric = metric
        self.fingerprint = fingerprint
        self.centroidWeight = centroidWeight
        self.mean = mean
        self.scale = scale
        self.centroids = centroids
        centroidNorms = []
        var rng = RandomGenerator(seed: seed)
        func he(_ fanIn: Int, _ n: Int) -> [Float] {
            let s = (2 / Float(fanIn)).squareRoot()
            return (0..<n).map { _ in rng.gaussian() * s }
        }
        w1 = he(dim, hidden1 * dim); b1 = [Float](repeating: 0, count: hidden1)
        w2 = he(hidden1, hidden2 * hidden1); b2 = [Float](repeating: 0, count: hidden2)
        // A pure MLP needs a random last layer; a residual one starts at the baseline.
        w3 = centroidWeight == 0 ? he(hidden2, clusterCount * hidden2) : [Float](repeating: 0, count: clusterCount * hidden2)
        b3 = [Float](repeating: 0, count: clusterCount)
        prepare()
    }

    mutating func prepare() {
        var n = [Float](repeating: 0, count: clusterCount)
        centroids.withUnsafeBufferPointer { c in
            n.withUnsafeMutableBufferPointer { Kernels.squaredNorms(c.baseAddress!, n: clusterCount, d: dim, into: $0.baseAddress!) }
        }
        centroidNorms = metric == .l2 ? n : [Float](repeating: 0, count: clusterCount)
    }

    public var parameterCount: Int { w1.count + b1.count + w2.count + b2.count + w3.count + b3.count }

    /// The weights, the input normalisation and the centroid norms.
    public var footprint: Int { Self.footprint(dim: dim, clusterCount: clusterCount, hidden1: hidden1, hidden2: hidden2) }

    /// The footprint of an MLP of these sizes (`RouterModel.footprint`).
    public static func footprint(dim d: Int, clusterCount k: Int, hidden1 h1: Int, hidden2 h2: Int) -> Int {
        4 * (2 * d + h1 * d + h1 + h2 * h1 + h2 + k * h2 + k + k)
    }

    /// Activations of one forward pass over a batch, kept for the backward pass.
    public final class Activations {
        public var input: [Float] = [], h1: [Float] = [], h2: [Float] = [], logits: [Float] = []
        func reserve(_ n: Int, _ m: RouterModel) {
            if input.count < n * m.dim { input = [Float](repeating: 0, count: n * m.dim) }
            if h1.count < n * m.hidden1 { h1 = [Float](repeating: 0, count: n * m.hidden1) }
            if h2.count < n * m.hidden2 { h2 = [Float](repeating: 0, count: n * m.hidden2) }
            if logits.count < n * m.clusterCount { logits = [Float](repeating: 0, count: n * m.clusterCount) }
        }
        public init() {}
    }

    /// Logits (larger = more likely to hold the nearest neighbour) of `n` raw queries.
    public func forward(_ queries: UnsafePointer<Float>, n: Int, into a: Activations) {
        a.reserve(n, self)
        let d = dim, k = clusterCount
        a.input.withUnsafeMutableBufferPointer { x in
            for i in 0..<n { for j in 0..<d { x[i * d + j] = (queries[i * d + j] - mean[j]) * scale[j] } }
        }
        Self.dense(a.input, n: n, inDim: d, w: w1, b: b1, outDim: hidden1, into: &a.h1, relu: true)
        Self.dense(a.h1, n: n, inDim: hidden1, w: w2, b: b2, outDim: hidden2, into: &a.h2, relu: true)
        Self.dense(a.h2, n: n, inDim: hidden2, w: w3, b: b3, outDim: k, into: &a.logits, relu: false)
        guard centroidWeight != 0 else { return }
        // + (2q·c − ‖c‖²)/T for l2 (−‖q − c‖²/T up to a per-query constant); + q·c/T otherwise.
        let alpha = (metric == .l2 ? 2 : 1) * centroidWeight
        centroids.withUnsafeBufferPointer { c in
            a.logits.withUnsafeMutableBufferPointer { z in
                BLAS.gemmParallel(transA: false, transB: true, m: n, n: k, k: d, alpha: alpha, a: queries, lda: d,
                                  b: c.baseAddress!, ldb: d, beta: 1, c: z.baseAddress!, ldc: k)
                if metric == .l2 {
                    for i in 0..<n { for j in 0..<k { z[i * k + j] -= centroidNorms[j] * centroidWeight } }
                }
            }
        }
    }

    /// out (n × outDim) = act(x W^T + b).
    static func dense(_ x: [Float], n: Int, inDim: Int, w: [Float], b: [Float], outDim: Int, into out: inout [Float], relu: Bool) {
        out.withUnsafeMutableBufferPointer { o in
            for i in 0..<n { (o.baseAddress! + i * outDim).update(from: b, count: outDim) }
            x.withUnsafeBufferPointer { xp in
                w.withUnsafeBufferPointer { wp in
                    BLAS.gemmParallel(transA: false, transB: true, m: n, n: outDim, k: inDim, alpha: 1, a: xp.baseAddress!, lda: inDim,
                                      b: wp.baseAddress!, ldb: inDim, beta: 1, c: o.baseAddress!, ldc: outDim)
                }
            }
            if relu { for i in 0..<(n * outDim) where o[i] < 0 { o[i] = 0 } }
        }
    }

    public func score(queries: UnsafePointer<Float>, n: Int, dim: Int, into scores: UnsafeMutablePointer<Float>) {
        let a = Activations()
        forward(queries, n: n, into: a)
        for i in 0..<(n * clusterCount) { scores[i] = -a.logits[i] }
    }
}
